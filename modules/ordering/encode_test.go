package ordering

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"minikart/modules/catalog"
	"minikart/platform/money"
)

// reflected is Order without its MarshalJSON: what encoding/json makes of
// the same fields and tags, the answer Order.MarshalJSON must match. A
// field added to Order, Item or catalog.Product shows up here and not in
// MarshalJSON until it learns it.
type reflected struct {
	ID        uuid.UUID         `json:"id"`
	Items     []Item            `json:"items"`
	Products  []catalog.Product `json:"products"`
	Total     money.Cents       `json:"total"`
	Discounts money.Cents       `json:"discounts"`
}

// reference is encoding/json's answer for o. The conversion stops
// compiling if Order's fields drift from reflected's.
func reference(t *testing.T, o Order) string {
	t.Helper()
	b, err := json.Marshal(reflected(o))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func product(id, name, category, img string, price money.Cents) catalog.Product {
	return catalog.Product{ID: id, Name: name, Category: category, Price: price,
		Image: catalog.Image{Thumbnail: img + "/t", Mobile: img + "/m", Tablet: img + "/tab", Desktop: img + "/d"}}
}

func TestOrderJSONIsEncodingJSONs(t *testing.T) {
	id := uuid.MustParse("d5312748-56ba-40c3-8259-c719d8711546")
	tests := []struct {
		name string
		o    Order
	}{
		{"empty", Order{}},
		{"no products", Order{ID: id, Items: []Item{}, Products: []catalog.Product{}}},
		{"an order", Order{ID: id,
			Items:    []Item{{ProductID: "1", Quantity: 2}, {ProductID: "3", Quantity: 1}, {ProductID: "1", Quantity: 1000}},
			Products: []catalog.Product{product("1", "Waffle with Berries", "Waffle", "https://cdn.example/images/waffle", 650), product("3", "Macaron Mix of Five", "Macaron", "/api/images/macaron", 800)},
			Total:    1722, Discounts: 378}},
		{"characters to escape", Order{ID: id,
			Items:    []Item{{ProductID: "<1>&\"\\", Quantity: -3}},
			Products: []catalog.Product{product("\x00\x01\x1f\x7f", "Crème brûlée \u2028\u2029 \b\f\n\r\t", "日本 🍰", "https://x.example/?a=1&b=<2>", 5)},
			Total:    -1234, Discounts: 100001}},
		{"invalid UTF-8", Order{ID: id, Items: []Item{{ProductID: "\xff\xfe", Quantity: 1}},
			Products: []catalog.Product{product("a\xc3", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80", "\xe2\x80", 0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if want := reference(t, tt.o); string(got) != want {
				t.Errorf("MarshalJSON\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestOrderJSONQuotesEveryStringAsEncodingJSON(t *testing.T) {
	// Every single byte, then random strings over an alphabet of the
	// characters that need care.
	var samples []string
	for c := range 256 {
		samples = append(samples, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z")
	}
	alphabet := []string{"a", "<", ">", "&", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "\ufffd", "🍰", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		samples = append(samples, b.String())
	}
	for _, s := range samples {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s (valid UTF-8: %v)", s, got, want, utf8.ValidString(s))
		}
	}
}

// BenchmarkOrderJSON encodes a two-item order's answer: encoding/json's
// reflection on the same fields (reflect) against MarshalJSON.
func BenchmarkOrderJSON(b *testing.B) {
	o := Order{ID: uuid.New(),
		Items:    []Item{{ProductID: "1", Quantity: 2}, {ProductID: "3", Quantity: 1}},
		Products: []catalog.Product{product("1", "Waffle with Berries", "Waffle", "https://cdn.example/images/waffle", 650), product("3", "Macaron Mix of Five", "Macaron", "https://cdn.example/images/macaron", 800)},
		Total:    1722, Discounts: 378}
	b.Run("reflect", func(b *testing.B) {
		r := reflected(o)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := o.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRequestHashIsStable pins the hashed text: keys stored by an earlier
// release must keep matching their retries after an upgrade.
func TestRequestHashIsStable(t *testing.T) {
	earlier := func(o storedOrder) []byte {
		h := sha256.New()
		fmt.Fprintf(h, "coupon=%s\n", o.CouponCode)
		for _, l := range o.Lines {
			fmt.Fprintf(h, "item=%q,%d\n", strconv.FormatInt(l.ProductID, 10), l.Quantity)
		}
		return h.Sum(nil)
	}
	orders := []storedOrder{
		{},
		{CouponCode: "HAPPYHRS", Lines: []storedLine{{ProductID: 1, Quantity: 2}, {ProductID: 9, Quantity: 1}}},
		{Lines: []storedLine{{ProductID: 1234567890123, Quantity: 1000}, {ProductID: 1, Quantity: 1}, {ProductID: 1, Quantity: 1}}},
	}
	for _, o := range orders {
		if got, want := requestHash(o), earlier(o); !bytes.Equal(got, want) {
			t.Errorf("requestHash(%+v) = %x, want %x", o, got, want)
		}
	}
}
