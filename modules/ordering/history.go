package ordering

import (
	"context"
	"time"

	"github.com/google/uuid"

	"minikart/platform/money"
)

// History reads every order, whoever placed it, for back-office modules
// (the admin API): filtered lists newest first, one order, and totals.
// Each read is one statement on the primary, served by an index on orders
// (migrations 0011 to 0013), so its cost follows the page or the reported
// range, not the size of the table.
type History struct {
	st historyStore
	s  *Service
}

// historyStore is what History needs from storage.
type historyStore interface {
	List(ctx context.Context, f OrderFilter, after *OrderPosition, limit int) ([]OrderSummary, error)
	GetAny(ctx context.Context, id uuid.UUID) (storedOrder, time.Time, error)
	Totals(ctx context.Context, by TotalsBy, from, to time.Time) ([]Total, error)
}

// NewHistory returns the order history.
func NewHistory(st historyStore, s *Service) *History { return &History{st: st, s: s} }

// OrderFilter selects orders; a zero field selects all.
type OrderFilter struct {
	// From and To bound created_at: From <= created_at < To.
	From, To time.Time
	// CouponCode is the canonical code (promo.CanonicalCode).
	CouponCode string
	// KeyID is the id of the api key that placed the order.
	KeyID string
}

// OrderPosition is where a list page ends: the newest-first sort key of its
// last order. The next page starts after it.
type OrderPosition struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"i"`
}

// OrderSummary is one order of a list.
type OrderSummary struct {
	ID         uuid.UUID   `json:"id"`
	CreatedAt  time.Time   `json:"createdAt"`
	KeyID      string      `json:"keyId,omitempty"`
	CouponCode string      `json:"couponCode,omitempty"`
	Subtotal   money.Cents `json:"subtotal"`
	Discounts  money.Cents `json:"discounts"`
	Total      money.Cents `json:"total"`
	ItemCount  int         `json:"itemCount"`
}

// Position is where s sits in the newest-first order.
func (s OrderSummary) Position() OrderPosition {
	return OrderPosition{CreatedAt: s.CreatedAt, ID: s.ID}
}

// List returns up to limit orders matching f, newest first (ties by id),
// after the position after (nil: from the newest).
func (h *History) List(ctx context.Context, f OrderFilter, after *OrderPosition, limit int) ([]OrderSummary, error) {
	return h.st.List(ctx, f, after, limit)
}

// PlacedOrder is an order, as its key reads it, with who placed it and
// when.
type PlacedOrder struct {
	Order      Order     `json:"order"`
	CreatedAt  time.Time `json:"createdAt"`
	KeyID      string    `json:"keyId,omitempty"`
	CouponCode string    `json:"couponCode,omitempty"`
}

// Get returns any order by id, or ErrOrderNotFound, shown as Service.Get
// shows it to the key that placed it.
func (h *History) Get(ctx context.Context, id uuid.UUID) (PlacedOrder, error) {
	o, at, err := h.st.GetAny(ctx, id)
	if err != nil {
		return PlacedOrder{}, err
	}
	view, err := h.s.render(ctx, o)
	if err != nil {
		return PlacedOrder{}, err
	}
	return PlacedOrder{Order: view, CreatedAt: at, KeyID: o.KeyID, CouponCode: o.CouponCode}, nil
}

// TotalsBy names how Totals groups the orders.
type TotalsBy string

// The groupings of Totals.
const (
	ByDay    TotalsBy = "day"    // the UTC day of created_at
	ByCoupon TotalsBy = "coupon" // the coupon code, "" for none
)

// Total sums the orders of one group.
type Total struct {
	// Key is the day (2026-01-31) or the coupon code ("" for orders
	// without one).
	Key       string      `json:"key"`
	Orders    int64       `json:"orders"`
	Subtotal  money.Cents `json:"subtotal"`
	Discounts money.Cents `json:"discounts"`
	Total     money.Cents `json:"total"`
}

// Totals sums the orders placed in [from, to), grouped by, newest day
// first or coupon codes in order (no coupon first).
func (h *History) Totals(ctx context.Context, by TotalsBy, from, to time.Time) ([]Total, error) {
	return h.st.Totals(ctx, by, from, to)
}
