package ordering

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"minikart/modules/catalog"
	"minikart/modules/promo"
	"minikart/platform/apperr"
	"minikart/platform/money"
	"minikart/platform/tracing"
)

// productLookup finds many products in one call: from the database, or
// from the catalogue's cache (ok false when it cannot answer).
type productLookup interface {
	ProductsByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Product, error)
	CachedProductsByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Product, bool)
}

// promoApplier validates a coupon code and prices its discount, and counts
// a redemption inside the order's transaction.
type promoApplier interface {
	Apply(ctx context.Context, code string, lines []promo.Line) (promo.Quote, error)
	Redeem(ctx context.Context, tx sqlx.ExtContext, code string, prior promo.PriorUses) error
}

// orderStore persists orders.
type orderStore interface {
	Create(ctx context.Context, o storedOrder, idem *idempotencyRecord, inTx func(context.Context, sqlx.ExtContext) error) (replay []byte, err error)
	Get(ctx context.Context, id uuid.UUID, keyID string) (storedOrder, error)
	PurgeExpiredBatch(ctx context.Context, batch int) (int64, error)
	CouponUses(ctx context.Context, tx sqlx.ExtContext, code string, except uuid.UUID) (int64, error)
}

// Service places and reads orders.
type Service struct {
	products productLookup
	promos   promoApplier
	store    orderStore
	limits   limits
	idemTTL  time.Duration
	purge    int
	// purgeRate is the most keys a second a backlog is purged at.
	purgeRate int
	metrics   *metrics
	tracer    trace.Tracer
	// now and pause pace the purge (PurgeExpiredKeys); tests replace them.
	now   func() time.Time
	pause func(ctx context.Context, d time.Duration) error
}

// NewService returns the ordering service; each order placed is a span of
// tp's.
func NewService(p productLookup, pr promoApplier, st orderStore, c Config, m *metrics, tp trace.TracerProvider) *Service {
	return &Service{
		products: p, promos: pr, store: st, metrics: m, tracer: tp.Tracer("minikart/modules/ordering"),
		limits:  limits{maxItems: c.MaxItems, maxQuantity: c.MaxQuantity},
		idemTTL: c.IdempotencyTTL,
		purge:   c.IdempotencyPurgeBatch, purgeRate: c.IdempotencyPurgeRate,
		now: time.Now, pause: sleep,
	}
}

// sleep waits for d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Place prices req with current catalogue prices and the coupon's discount,
// and stores it, owned by keyID ("" for an anonymous order), with the
// coupon's redemption in one transaction. Money is
// integer cents throughout; the total never goes below zero. With an
// Idempotency-Key, a repeat of the same request returns the first response
// (Replayed) and stores nothing; concurrent repeats wait for the first.
// The placement is a span (ordering.place), parent of the coupon lookup's
// and the statements', with the pricing attempts it took and whether it
// was a replay.
func (s *Service) Place(ctx context.Context, keyID string, req PlaceOrder, idem Idempotency) (placed Placed, err error) {
	ctx, span := tracing.Child(ctx, s.tracer, "ordering.place")
	attempts := 0
	defer func() {
		if span.IsRecording() {
			span.SetAttributes(attribute.Int("ordering.pricings", attempts), attribute.Bool("ordering.replayed", placed.Replayed))
		}
		span.End()
	}()
	// The first attempt is priced from the catalogue's cache when it has
	// every product, and its statement checks those prices where it
	// writes: an order takes one round trip. Prices that changed since
	// write nothing, and the order is priced again from the database.
	cached := true
	for attempt := 1; ; attempt++ {
		attempts = attempt
		placed, err = s.place(ctx, keyID, req, idem, cached)
		if !errors.Is(err, errStalePrices) {
			return placed, err
		}
		s.metrics.repriced.Inc()
		if attempt == maxPricings {
			// The menu changed under every attempt: a deploy rewriting
			// it, most likely, and soon over.
			return Placed{}, errMenuChanging
		}
		cached = false
	}
}

// maxPricings is how many times Place prices an order whose prices keep
// changing before it gives up.
const maxPricings = 3

// errMenuChanging answers an order whose prices changed under every attempt.
var errMenuChanging = apperr.ErrServiceUnavailable.Withf("the menu is changing, retry shortly").WithRetryAfter(1)

// place prices and stores the order once; cached prices it from the
// catalogue's cache when that has every product.
func (s *Service) place(ctx context.Context, keyID string, req PlaceOrder, idem Idempotency, cached bool) (Placed, error) {
	o, err := s.price(ctx, req, cached)
	if err != nil {
		return Placed{}, err
	}
	o.stored.KeyID = keyID
	body, _ := o.view.MarshalJSON() // encoding an Order cannot fail
	var rec *idempotencyRecord
	if idem.Key != "" {
		rec = &idempotencyRecord{
			scope: idem.Scope, key: idem.Key, requestHash: requestHash(o.stored),
			response: body, ttl: s.idemTTL,
		}
	}
	var redeem func(context.Context, sqlx.ExtContext) error
	if o.limited {
		redeem = func(ctx context.Context, tx sqlx.ExtContext) error {
			return s.promos.Redeem(ctx, tx, o.stored.CouponCode, func(ctx context.Context, tx sqlx.ExtContext) (int64, error) {
				return s.store.CouponUses(ctx, tx, o.stored.CouponCode, o.stored.ID)
			})
		}
	}
	replay, err := s.store.Create(ctx, o.stored, rec, redeem)
	if err != nil {
		return Placed{}, err
	}
	if replay != nil {
		s.metrics.replays.Inc()
		return Placed{Body: replay, Replayed: true}, nil
	}
	s.metrics.placed(o.stored)
	return Placed{Body: body}, nil
}

// requestHash identifies a request by its meaning, not its bytes: it hashes
// the priced order's canonical values, so the same items and coupon hash
// alike whatever the JSON spacing, extra fields, the spelling of a product
// id ("04" is product 4) or of the code (promo's canonical Quote.Code).
// Items stay in their order: an order is a list (its response lists the
// items as sent), so the same items in another order are another request.
// The hashed text is fixed (keys stored by earlier releases must still
// match): "coupon=<code>\n", then "item=\"<id>\",<quantity>\n" per item.
func requestHash(o storedOrder) []byte {
	b := make([]byte, 0, 16+len(o.CouponCode)+32*len(o.Lines))
	b = append(b, "coupon="...)
	b = append(b, o.CouponCode...)
	b = append(b, '\n')
	for _, l := range o.Lines {
		b = append(b, `item="`...)
		b = strconv.AppendInt(b, l.ProductID, 10)
		b = append(b, `",`...)
		b = strconv.AppendInt(b, int64(l.Quantity), 10)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// PurgeExpiredKeys deletes idempotency keys past their time to live,
// oldest first, in statements of at most idempotency_purge_batch keys,
// until none is left. After each statement it pauses as long as the
// statement took, and longer if need be to keep to idempotency_purge_rate
// keys a second: a backlog (a million keys) then takes at most half of one
// connection's time, and orders placed meanwhile keep their latency (make
// bench-scale measured order p99 at 3.6 times its value without a purge
// when the statements ran back to back, and at 4.4 times with pauses but
// no rate, 25,000 keys a second).
func (s *Service) PurgeExpiredKeys(ctx context.Context) (int64, error) {
	var total int64
	for {
		began := s.now()
		n, err := s.store.PurgeExpiredBatch(ctx, s.purge)
		total += n
		if err != nil || n < int64(s.purge) {
			return total, err
		}
		took := s.now().Sub(began)
		paced := time.Duration(n) * time.Second / time.Duration(s.purgeRate)
		if err := s.pause(ctx, max(took, paced-took)); err != nil {
			return total, nil
		}
	}
}

// priced is an order ready to store and its response.
type priced struct {
	stored storedOrder
	view   Order
	// limited is set when the coupon has a redemption limit to enforce.
	limited bool
}

// price resolves products and the coupon's discount.
func (s *Service) price(ctx context.Context, req PlaceOrder, cached bool) (priced, error) {
	ids := resolveIDs(req.Items)
	distinct := uniq(ids)
	var found map[int64]catalog.Product
	ok := false
	if cached {
		found, ok = s.products.CachedProductsByIDs(ctx, distinct)
	}
	if !ok {
		var err error
		if found, err = s.products.ProductsByIDs(ctx, distinct); err != nil {
			return priced{}, err
		}
	}
	var p apperr.Problems
	for i, id := range ids {
		if _, ok := found[id]; !ok {
			p.Add(ErrProductNotFound, "items["+strconv.Itoa(i)+"].productId", "no such product", req.Items[i].ProductID)
		}
	}
	if err := p.Err(); err != nil {
		return priced{}, err
	}

	o := storedOrder{ID: newOrderID(), Lines: make([]storedLine, len(ids))}
	limited := false
	lines := make([]promo.Line, len(ids))
	for i, id := range ids {
		prod := found[id]
		price := prod.Price
		o.Lines[i] = storedLine{ProductID: id, Quantity: req.Items[i].Quantity, UnitPrice: price, Name: prod.Name, Category: prod.Category}
		lines[i] = promo.Line{UnitPrice: price, Quantity: req.Items[i].Quantity}
		o.Subtotal += price * money.Cents(req.Items[i].Quantity)
	}
	if req.CouponCode != "" {
		q, err := s.promos.Apply(ctx, req.CouponCode, lines)
		if err != nil {
			return priced{}, err
		}
		o.CouponCode, o.Discount = q.Code, min(q.Discount, o.Subtotal)
		limited = q.Limited
	}
	o.Total = o.Subtotal - o.Discount
	return priced{stored: o, view: s.view(o, found), limited: limited}, nil
}

// Get returns a stored order placed with the api key id keyID; an order
// of another key, or an anonymous one, is ErrOrderNotFound, so ids of
// others' orders cannot even be confirmed. Its products show the name,
// category and unit price the order was placed at, so it reads as sold
// after the menu changes; the pictures are today's.
func (s *Service) Get(ctx context.Context, keyID string, id uuid.UUID) (Order, error) {
	if keyID == "" {
		return Order{}, ErrOrderNotFound
	}
	o, err := s.store.Get(ctx, id, keyID)
	if err != nil {
		return Order{}, err
	}
	return s.render(ctx, o)
}

// render shows a stored order with today's pictures of its products.
func (s *Service) render(ctx context.Context, o storedOrder) (Order, error) {
	ids := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		ids[i] = l.ProductID
	}
	found, err := s.products.ProductsByIDs(ctx, uniq(ids))
	if err != nil {
		return Order{}, err
	}
	return s.view(o, found), nil
}

// resolveIDs parses product ids. An id that is not a positive integer can
// name no product: it becomes 0, which no product has, and is reported with
// the unknown ones.
func resolveIDs(items []Item) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		if id, err := strconv.ParseInt(it.ProductID, 10, 64); err == nil && id > 0 {
			ids[i] = id
		}
	}
	return ids
}

// view renders a stored order in the contract's shape: every item, and each
// ordered product once, in order of first appearance, as sold.
func (s *Service) view(o storedOrder, found map[int64]catalog.Product) Order {
	out := Order{ID: o.ID, Items: make([]Item, len(o.Lines)), Products: []catalog.Product{}, Total: o.Total, Discounts: o.Discount}
	seen := make(map[int64]bool, len(o.Lines))
	for i, l := range o.Lines {
		out.Items[i] = Item{ProductID: strconv.FormatInt(l.ProductID, 10), Quantity: l.Quantity}
		if seen[l.ProductID] {
			continue
		}
		seen[l.ProductID] = true
		p, ok := found[l.ProductID]
		if !ok {
			p = catalog.Product{ID: strconv.FormatInt(l.ProductID, 10)}
		}
		p.Price = l.UnitPrice
		if l.Name != "" {
			p.Name, p.Category = l.Name, l.Category
		}
		out.Products = append(out.Products, p)
	}
	return out
}

func uniq(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ParseOrderID parses an order id path parameter: a UUID in its 36-character
// form, or INVALID_PARAMETER naming orderId.
func ParseOrderID(raw string) (uuid.UUID, error) {
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return uuid.Nil, apperr.ErrInvalidParameter.Withf("orderId must be a UUID").
			WithDetails(apperr.Detail{Field: "orderId", Message: "must be a UUID", Value: apperr.Clip(raw)})
	}
	return id, nil
}

// newOrderID returns a time-ordered id (UUIDv7: milliseconds since the epoch,
// then random bits). Orders placed together sit together in the primary key's
// index, so an insert touches the index's rightmost pages instead of a random
// one; with random (v4) ids each insert dirtied another page and the first
// change to a page after a checkpoint writes the whole page to the WAL.
func newOrderID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}
