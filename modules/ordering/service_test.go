package ordering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace/noop"

	"minikart/modules/catalog"
	"minikart/modules/promo"
	"minikart/platform/apperr"
	"minikart/platform/money"
)

// fakeProducts is the catalog as ordering sees it: byID is the database,
// cache (nil: caching off) the catalogue's cache.
type fakeProducts struct {
	byID        map[int64]catalog.Product
	cache       map[int64]catalog.Product
	err         error
	asked       [][]int64
	askedCached [][]int64
}

func (f *fakeProducts) CachedProductsByIDs(_ context.Context, ids []int64) (map[int64]catalog.Product, bool) {
	f.askedCached = append(f.askedCached, ids)
	if f.cache == nil {
		return nil, false
	}
	out := map[int64]catalog.Product{}
	for _, id := range ids {
		p, ok := f.cache[id]
		if !ok {
			return nil, false
		}
		out[id] = p
	}
	return out, true
}

func (f *fakeProducts) ProductsByIDs(_ context.Context, ids []int64) (map[int64]catalog.Product, error) {
	f.asked = append(f.asked, ids)
	if f.err != nil {
		return nil, f.err
	}
	out := map[int64]catalog.Product{}
	for _, id := range ids {
		if p, ok := f.byID[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}

// fakePromo returns a fixed quote and records what it was asked.
type fakePromo struct {
	quote     promo.Quote
	err       error
	redeemErr error
	codes     []string
	redeemed  []string
	lines     [][]promo.Line
}

func (f *fakePromo) Apply(_ context.Context, code string, lines []promo.Line) (promo.Quote, error) {
	f.codes = append(f.codes, code)
	f.lines = append(f.lines, lines)
	return f.quote, f.err
}

func (f *fakePromo) Redeem(_ context.Context, _ sqlx.ExtContext, code string, _ promo.PriorUses) error {
	f.redeemed = append(f.redeemed, code)
	return f.redeemErr
}

// fakeOrders keeps orders in memory.
type fakeOrders struct {
	idem    []*idempotencyRecord
	created []storedOrder
	byID    map[uuid.UUID]storedOrder
	err     error
	// menu, when set, plays qCreate's price check: an order whose lines
	// differ from it is stale and writes nothing.
	menu     map[int64]catalog.Product
	attempts int
	// purges are the keys each purge statement finds expired, in turn;
	// purgeTook, when set, runs as each statement does.
	purges    []int64
	purgeTook func()
}

// Create runs inTx like the real store does inside its transaction; an
// error there, like any other, leaves nothing stored.
func (f *fakeOrders) Create(ctx context.Context, o storedOrder, idem *idempotencyRecord, inTx func(context.Context, sqlx.ExtContext) error) ([]byte, error) {
	f.attempts++
	if f.err != nil {
		return nil, f.err
	}
	for _, l := range o.Lines {
		if p, ok := f.menu[l.ProductID]; f.menu != nil && (!ok || p.Price != l.UnitPrice || p.Name != l.Name || p.Category != l.Category) {
			return nil, errStalePrices
		}
	}
	if inTx != nil {
		if err := inTx(ctx, nil); err != nil {
			return nil, err
		}
	}
	f.idem = append(f.idem, idem)
	f.created = append(f.created, o)
	return nil, nil
}

func (f *fakeOrders) PurgeExpiredBatch(_ context.Context, batch int) (int64, error) {
	if len(f.purges) == 0 {
		return 0, nil
	}
	n := f.purges[0]
	f.purges = f.purges[1:]
	if f.purgeTook != nil {
		f.purgeTook()
	}
	return min(n, int64(batch)), nil
}

func (f *fakeOrders) CouponUses(context.Context, sqlx.ExtContext, string, uuid.UUID) (int64, error) {
	return 0, nil
}

func (f *fakeOrders) Get(_ context.Context, id uuid.UUID, keyID string) (storedOrder, error) {
	if f.err != nil {
		return storedOrder{}, f.err
	}
	o, ok := f.byID[id]
	if !ok || o.KeyID != keyID {
		return storedOrder{}, ErrOrderNotFound
	}
	return o, nil
}

func newCatalog() *fakeProducts {
	return &fakeProducts{byID: map[int64]catalog.Product{
		1: {ID: "1", Name: "Waffle with Berries", Price: 650, Category: "Waffle"},
		2: {ID: "2", Name: "Vanilla Bean Crème Brûlée", Price: 700, Category: "Crème Brûlée"},
	}}
}

var testOrderConfig = Config{RequireAPIKey: true, MaxItems: 5, MaxQuantity: 10, MaxBodyBytes: 1024}

func TestPlacePricesTheOrder(t *testing.T) {
	tests := []struct {
		name         string
		req          PlaceOrder
		quote        promo.Quote
		wantSubtotal money.Cents
		wantDiscount money.Cents
		wantTotal    money.Cents
		wantCoupon   string
	}{
		{"no coupon", PlaceOrder{Items: []Item{{"1", 2}, {"2", 1}}}, promo.Quote{}, 2000, 0, 2000, ""},
		{"a coupon", PlaceOrder{Items: []Item{{"1", 2}, {"2", 1}}, CouponCode: "happyhrs"}, promo.Quote{Code: "HAPPYHRS", Discount: 360}, 2000, 360, 1640, "HAPPYHRS"},
		{"a discount over the subtotal", PlaceOrder{Items: []Item{{"1", 1}}, CouponCode: "BIGSPENDER"}, promo.Quote{Code: "BIGSPENDER", Discount: 5000}, 650, 650, 0, "BIGSPENDER"},
		{"a discount equal to the subtotal", PlaceOrder{Items: []Item{{"2", 1}}, CouponCode: "FREEBIES1"}, promo.Quote{Code: "FREEBIES1", Discount: 700}, 700, 700, 0, "FREEBIES1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, st := &fakePromo{quote: tt.quote}, &fakeOrders{}
			s := NewService(newCatalog(), pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
			o, err := place(s, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if o.Total != tt.wantTotal || o.Discounts != tt.wantDiscount {
				t.Errorf("total %d discounts %d, want %d %d", o.Total, o.Discounts, tt.wantTotal, tt.wantDiscount)
			}
			if len(st.created) != 1 {
				t.Fatalf("stored %d orders", len(st.created))
			}
			got := st.created[0]
			if got.ID != o.ID || got.Subtotal != tt.wantSubtotal || got.Discount != tt.wantDiscount || got.Total != tt.wantTotal || got.CouponCode != tt.wantCoupon {
				t.Errorf("stored %+v", got)
			}
			if got.Total < 0 || got.Total != got.Subtotal-got.Discount {
				t.Errorf("stored total %d != subtotal %d - discount %d", got.Total, got.Subtotal, got.Discount)
			}
		})
	}
}

func TestOrderIDsAreTimeOrdered(t *testing.T) {
	pr, st := &fakePromo{}, &fakeOrders{}
	s := NewService(newCatalog(), pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	var prev uuid.UUID
	for i := range 50 {
		o, err := place(s, PlaceOrder{Items: []Item{{"1", 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if o.ID.Version() != 7 {
			t.Fatalf("order id %s is version %d, want 7 (time-ordered)", o.ID, o.ID.Version())
		}
		if i > 0 && bytes.Compare(o.ID[:6], prev[:6]) < 0 {
			t.Errorf("order id %s sorts before the earlier %s", o.ID, prev)
		}
		prev = o.ID
	}
}

func TestPlacePassesTheCouponThrough(t *testing.T) {
	pr := &fakePromo{quote: promo.Quote{Code: "HAPPYHRS", Discount: 100}}
	s := NewService(newCatalog(), pr, &fakeOrders{}, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	if _, err := place(s, PlaceOrder{Items: []Item{{"1", 2}, {"2", 1}, {"1", 1}}, CouponCode: "happyhrs"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pr.codes, []string{"happyhrs"}) {
		t.Errorf("codes = %q", pr.codes)
	}
	want := []promo.Line{{UnitPrice: 650, Quantity: 2}, {UnitPrice: 700, Quantity: 1}, {UnitPrice: 650, Quantity: 1}}
	if len(pr.lines) != 1 || !reflect.DeepEqual(pr.lines[0], want) {
		t.Errorf("lines = %+v, want %+v", pr.lines, want)
	}
}

func TestPlaceWithoutCouponSkipsPromo(t *testing.T) {
	pr := &fakePromo{err: errors.New("must not be called")}
	s := NewService(newCatalog(), pr, &fakeOrders{}, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	if _, err := place(s, PlaceOrder{Items: []Item{{"1", 1}}}); err != nil {
		t.Fatal(err)
	}
	if len(pr.codes) != 0 {
		t.Errorf("promo asked about %q", pr.codes)
	}
}

func TestPlaceRendersEachProductOnce(t *testing.T) {
	products := newCatalog()
	s := NewService(products, &fakePromo{}, &fakeOrders{}, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	o, err := place(s, PlaceOrder{Items: []Item{{"2", 1}, {"1", 2}, {"2", 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(products.asked, [][]int64{{2, 1}}) {
		t.Errorf("catalog asked for %v, want each id once", products.asked)
	}
	if len(o.Items) != 3 || len(o.Products) != 2 || o.Products[0].ID != "2" || o.Products[1].ID != "1" {
		t.Errorf("items %+v products %+v", o.Items, o.Products)
	}
}

func TestPlaceReportsEveryUnknownProduct(t *testing.T) {
	pr, st := &fakePromo{}, &fakeOrders{}
	s := NewService(newCatalog(), pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	_, err := place(s, PlaceOrder{
		Items:      []Item{{"1", 1}, {"x", 1}, {"99", 1}, {"2", 1}, {"-3", 1}, {"99", 2}},
		CouponCode: "HAPPYHRS",
	})
	if !errors.Is(err, ErrProductNotFound) {
		t.Fatalf("err = %v, want ErrProductNotFound", err)
	}
	ae, _ := apperr.As(err)
	want := []apperr.Detail{
		{Field: "items[1].productId", Message: "no such product", Value: "x"},
		{Field: "items[2].productId", Message: "no such product", Value: "99"},
		{Field: "items[4].productId", Message: "no such product", Value: "-3"},
		{Field: "items[5].productId", Message: "no such product", Value: "99"},
	}
	if !reflect.DeepEqual(ae.Details, want) {
		t.Errorf("details =\n%+v\nwant\n%+v", ae.Details, want)
	}
	if len(pr.codes) != 0 || len(st.created) != 0 {
		t.Errorf("promo asked %q, store got %d orders", pr.codes, len(st.created))
	}
}

func TestPlacePropagatesFailures(t *testing.T) {
	lookupErr := errors.New("products by ids: connection reset")
	storeErr := errors.New("insert order: connection reset")
	tests := []struct {
		name     string
		products *fakeProducts
		promo    *fakePromo
		store    *fakeOrders
		want     error
	}{
		{"the catalog fails", &fakeProducts{err: lookupErr}, &fakePromo{}, &fakeOrders{}, lookupErr},
		{"the coupon is rejected", newCatalog(), &fakePromo{err: promo.ErrInvalidPromoCode}, &fakeOrders{}, promo.ErrInvalidPromoCode},
		{"the coupon set is loading", newCatalog(), &fakePromo{err: promo.ErrPromoUnavailable}, &fakeOrders{}, promo.ErrPromoUnavailable},
		{"the store fails", newCatalog(), &fakePromo{}, &fakeOrders{err: storeErr}, storeErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService(tt.products, tt.promo, tt.store, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
			_, err := place(s, PlaceOrder{Items: []Item{{"1", 1}}, CouponCode: "HAPPYHRS"})
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if len(tt.store.created) != 0 {
				t.Errorf("stored %d orders", len(tt.store.created))
			}
		})
	}
}

func TestGetShowsTheSoldPrices(t *testing.T) {
	id := uuid.New()
	st := &fakeOrders{byID: map[uuid.UUID]storedOrder{id: {
		ID: id, KeyID: "shop-web", CouponCode: "HAPPYHRS", Subtotal: 2400, Discount: 432, Total: 1968,
		Lines: []storedLine{
			{ProductID: 1, Quantity: 2, UnitPrice: 500},
			{ProductID: 3, Quantity: 1, UnitPrice: 900},
			{ProductID: 1, Quantity: 1, UnitPrice: 500},
		},
	}}}
	products := newCatalog() // product 1 now costs 6.50, product 3 is gone
	s := NewService(products, &fakePromo{}, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	o, err := s.Get(context.Background(), "shop-web", id)
	if err != nil {
		t.Fatal(err)
	}
	want := Order{
		ID:    id,
		Items: []Item{{"1", 2}, {"3", 1}, {"1", 1}},
		Products: []catalog.Product{
			{ID: "1", Name: "Waffle with Berries", Price: 500, Category: "Waffle"},
			{ID: "3", Price: 900},
		},
		Total:     1968,
		Discounts: 432,
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("order =\n%+v\nwant\n%+v", o, want)
	}
	if !reflect.DeepEqual(products.asked, [][]int64{{1, 3}}) {
		t.Errorf("catalog asked for %v", products.asked)
	}
}

func TestGetPropagatesNotFound(t *testing.T) {
	s := NewService(newCatalog(), &fakePromo{}, &fakeOrders{}, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	if _, err := s.Get(context.Background(), "shop-web", uuid.New()); !errors.Is(err, ErrOrderNotFound) {
		t.Errorf("err = %v, want ErrOrderNotFound", err)
	}
}

func testMetrics(t *testing.T) *metrics {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// place calls Service.Place without an Idempotency-Key and decodes the
// response body it returns.
func place(s *Service, req PlaceOrder) (Order, error) {
	placed, err := s.Place(context.Background(), "shop-web", req, Idempotency{})
	if err != nil {
		return Order{}, err
	}
	var o Order
	if err := json.Unmarshal(placed.Body, &o); err != nil {
		return Order{}, err
	}
	return o, nil
}

func TestPlaceRedeemsOnlyLimitedCoupons(t *testing.T) {
	tests := []struct {
		name      string
		quote     promo.Quote
		redeemErr error
		redeemed  []string
		stored    int
		wantErr   error
	}{
		{"unlimited code: no redemption round trip", promo.Quote{Code: "HAPPYHRS", Discount: 100}, nil, nil, 1, nil},
		{"limited code: redeemed in the order's transaction", promo.Quote{Code: "FIFTYOFF", Discount: 100, Limited: true}, nil, []string{"FIFTYOFF"}, 1, nil},
		{"limit reached: nothing stored", promo.Quote{Code: "FIFTYOFF", Discount: 100, Limited: true}, promo.ErrPromoExhausted, []string{"FIFTYOFF"}, 0, promo.ErrPromoExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, st := &fakePromo{quote: tt.quote, redeemErr: tt.redeemErr}, &fakeOrders{}
			s := NewService(newCatalog(), pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
			_, err := place(s, PlaceOrder{Items: []Item{{"1", 1}}, CouponCode: tt.quote.Code})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(pr.redeemed, tt.redeemed) || len(st.created) != tt.stored {
				t.Errorf("redeemed %v, stored %d; want %v and %d", pr.redeemed, len(st.created), tt.redeemed, tt.stored)
			}
		})
	}
}

func TestGetShowsTheSoldNames(t *testing.T) {
	id := uuid.New()
	st := &fakeOrders{byID: map[uuid.UUID]storedOrder{id: {
		ID: id, KeyID: "shop-web", Subtotal: 1400, Total: 1400,
		Lines: []storedLine{
			{ProductID: 1, Quantity: 1, UnitPrice: 500, Name: "Plain Waffle", Category: "Breakfast"},
			{ProductID: 3, Quantity: 1, UnitPrice: 900, Name: "Retired Macaron", Category: "Macaron"},
		},
	}}}
	products := newCatalog() // product 1 is now "Waffle with Berries"; product 3 is gone
	s := NewService(products, &fakePromo{}, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	o, err := s.Get(context.Background(), "shop-web", id)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Product{
		{ID: "1", Name: "Plain Waffle", Price: 500, Category: "Breakfast"},
		{ID: "3", Name: "Retired Macaron", Price: 900, Category: "Macaron"},
	}
	if !reflect.DeepEqual(o.Products, want) {
		t.Errorf("products =\n%+v\nwant\n%+v", o.Products, want)
	}
}

func TestPlaceStoresTheNamesItSold(t *testing.T) {
	st := &fakeOrders{}
	s := NewService(newCatalog(), &fakePromo{}, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	if _, err := s.Place(context.Background(), "shop-web", PlaceOrder{Items: []Item{{"1", 1}}}, Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if len(st.created) != 1 {
		t.Fatalf("%d orders stored", len(st.created))
	}
	if l := st.created[0].Lines[0]; l.Name != "Waffle with Berries" || l.Category != "Waffle" {
		t.Errorf("stored line %+v, want the name and category as sold", l)
	}
}

func TestRequestHashIsCanonical(t *testing.T) {
	base := storedOrder{CouponCode: "HAPPYHRS", Lines: []storedLine{{ProductID: 4, Quantity: 2}, {ProductID: 1, Quantity: 1}}}
	hash := func(req PlaceOrder, quoted string) []byte {
		t.Helper()
		pr, st := &fakePromo{quote: promo.Quote{Code: quoted}}, &fakeOrders{}
		products := &fakeProducts{byID: map[int64]catalog.Product{1: {ID: "1", Price: 100}, 4: {ID: "4", Price: 400}}}
		s := NewService(products, pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
		if _, err := s.Place(context.Background(), "shop-web", req, Idempotency{Scope: "key:shop-web", Key: "k"}); err != nil {
			t.Fatal(err)
		}
		return st.idem[0].requestHash
	}
	want := requestHash(base)
	tests := []struct {
		name   string
		req    PlaceOrder
		quoted string
		same   bool
	}{
		{"as stored", PlaceOrder{Items: []Item{{"4", 2}, {"1", 1}}, CouponCode: "HAPPYHRS"}, "HAPPYHRS", true},
		{"product ids with leading zeros", PlaceOrder{Items: []Item{{"04", 2}, {"001", 1}}, CouponCode: "HAPPYHRS"}, "HAPPYHRS", true},
		{"the code as promo canonicalises it", PlaceOrder{Items: []Item{{"4", 2}, {"1", 1}}, CouponCode: "happyhrs"}, "HAPPYHRS", true},
		{"the items in another order", PlaceOrder{Items: []Item{{"1", 1}, {"4", 2}}, CouponCode: "HAPPYHRS"}, "HAPPYHRS", false},
		{"another quantity", PlaceOrder{Items: []Item{{"4", 3}, {"1", 1}}, CouponCode: "HAPPYHRS"}, "HAPPYHRS", false},
		{"no coupon", PlaceOrder{Items: []Item{{"4", 2}, {"1", 1}}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hash(tt.req, tt.quoted); reflect.DeepEqual(got, want) != tt.same {
				t.Errorf("same hash = %t, want %t", !tt.same, tt.same)
			}
		})
	}
}

// TestPlacePricesFromTheCache checks that an order the cache can price
// reads no product from the database and is stored in one attempt.
func TestPlacePricesFromTheCache(t *testing.T) {
	products := newCatalog()
	products.cache = products.byID
	st := &fakeOrders{menu: products.byID}
	m := testMetrics(t)
	s := NewService(products, &fakePromo{}, st, testOrderConfig, m, noop.NewTracerProvider())
	o, err := place(s, PlaceOrder{Items: []Item{{"1", 2}, {"2", 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Total != 2000 || len(products.asked) != 0 || len(products.askedCached) != 1 || st.attempts != 1 {
		t.Errorf("total %d, database asked %v, cache asked %v, %d attempts; want 2000 from the cache in one attempt",
			o.Total, products.asked, products.askedCached, st.attempts)
	}
	if got := testutil.ToFloat64(m.repriced); got != 0 {
		t.Errorf("repriced %v, want 0", got)
	}
}

// TestPlaceRepricesWhenTheCacheIsStale checks that an order priced from a
// cache the menu has left behind is stored at the database's prices, names
// and categories, priced again after a first attempt that wrote nothing.
func TestPlaceRepricesWhenTheCacheIsStale(t *testing.T) {
	products := newCatalog()
	products.cache = map[int64]catalog.Product{
		1: {ID: "1", Name: "Waffle with Berries", Price: 500, Category: "Waffle"},
		2: products.byID[2],
	}
	st := &fakeOrders{menu: products.byID}
	m := testMetrics(t)
	pr := &fakePromo{quote: promo.Quote{Code: "HAPPYHRS", Discount: 1}}
	s := NewService(products, pr, st, testOrderConfig, m, noop.NewTracerProvider())
	o, err := place(s, PlaceOrder{Items: []Item{{"1", 2}, {"2", 1}}, CouponCode: "happyhrs"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Total != 1999 || len(st.created) != 1 || st.created[0].Lines[0].UnitPrice != 650 {
		t.Fatalf("total %d, stored %+v; want 1999 at the database's 650 a waffle", o.Total, st.created)
	}
	if st.attempts != 2 || len(products.asked) != 1 || testutil.ToFloat64(m.repriced) != 1 {
		t.Errorf("%d attempts, database asked %v, repriced %v; want 2, once, 1", st.attempts, products.asked, testutil.ToFloat64(m.repriced))
	}
	// The discount was worked out again on the prices stored.
	if len(pr.lines) != 2 || pr.lines[1][0].UnitPrice != 650 {
		t.Errorf("coupon priced on %v, want the second time on 650", pr.lines)
	}
}

// TestPlaceGivesUpWhileTheMenuKeepsChanging checks that an order whose
// prices change under every attempt gets a retryable 503, not a 500, after
// maxPricings attempts.
func TestPlaceGivesUpWhileTheMenuKeepsChanging(t *testing.T) {
	products := newCatalog()
	st := &fakeOrders{menu: map[int64]catalog.Product{}} // nothing is ever current
	s := NewService(products, &fakePromo{}, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider())
	_, err := place(s, PlaceOrder{Items: []Item{{"1", 1}}})
	ae, ok := apperr.As(err)
	if !errors.Is(err, apperr.ErrServiceUnavailable) || !ok || ae.RetryAfter < 1 || st.attempts != maxPricings {
		t.Errorf("err %v after %d attempts, want %v with a Retry-After after %d", err, st.attempts, apperr.ErrServiceUnavailable, maxPricings)
	}
}

// A backlog of expired keys is purged in statements of at most the batch,
// each followed by a pause as long as it took (the purge takes at most half
// of a connection's time), until a statement finds fewer keys than the
// batch; the last one is followed by no pause.
func TestPurgeExpiredKeysPausesAsLongAsEachStatementTook(t *testing.T) {
	took := []time.Duration{40 * time.Millisecond, 70 * time.Millisecond, 10 * time.Millisecond}
	st := &fakeOrders{purges: []int64{100, 100, 30}}
	cfg := testOrderConfig
	cfg.IdempotencyPurgeBatch, cfg.IdempotencyPurgeRate = 100, 1_000_000
	if pauses := purgePauses(t, cfg, st, took); !slices.Equal(pauses, []time.Duration{40 * time.Millisecond, 70 * time.Millisecond}) {
		t.Errorf("pauses %v, want [40ms 70ms]: one after each full statement, as long as it took", pauses)
	}
}

// The pause after a statement is longer where the statement was quicker
// than idempotency_purge_rate allows: a statement and its pause together
// take at least batch/rate, so a fast database's backlog goes no faster
// than the rate.
func TestPurgeExpiredKeysKeepsToItsRate(t *testing.T) {
	took := []time.Duration{40 * time.Millisecond, 70 * time.Millisecond, 10 * time.Millisecond}
	st := &fakeOrders{purges: []int64{100, 100, 30}}
	cfg := testOrderConfig
	cfg.IdempotencyPurgeBatch, cfg.IdempotencyPurgeRate = 100, 1000 // 100 ms a statement
	if pauses := purgePauses(t, cfg, st, took); !slices.Equal(pauses, []time.Duration{60 * time.Millisecond, 70 * time.Millisecond}) {
		t.Errorf("pauses %v, want [60ms 70ms]: each statement and its pause take 100 ms, and a pause is never shorter than its statement", pauses)
	}
}

// purgePauses runs a purge against st whose statements take took each, on
// a clock the pauses advance, and returns the pauses.
func purgePauses(t *testing.T, cfg Config, st *fakeOrders, took []time.Duration) []time.Duration {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st.purgeTook = func() {
		now = now.Add(took[0])
		took = took[1:]
	}
	s := NewService(newCatalog(), &fakePromo{}, st, cfg, testMetrics(t), noop.NewTracerProvider())
	s.now = func() time.Time { return now }
	var pauses []time.Duration
	s.pause = func(_ context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		now = now.Add(d)
		return nil
	}
	n, err := s.PurgeExpiredKeys(context.Background())
	if err != nil || n != 230 {
		t.Fatalf("purged %d, %v; want 230", n, err)
	}
	return pauses
}

// A purge stops at its pause when the server stops, with what it deleted.
func TestPurgeExpiredKeysStopsWithItsContext(t *testing.T) {
	st := &fakeOrders{purges: []int64{100, 100, 100}}
	cfg := testOrderConfig
	cfg.IdempotencyPurgeBatch, cfg.IdempotencyPurgeRate = 100, 1000
	s := NewService(newCatalog(), &fakePromo{}, st, cfg, testMetrics(t), noop.NewTracerProvider())
	ctx, cancel := context.WithCancel(context.Background())
	s.pause = func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}
	if n, err := s.PurgeExpiredKeys(ctx); err != nil || n != 100 {
		t.Errorf("purged %d, %v; want 100 and no error", n, err)
	}
}
