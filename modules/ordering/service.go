package ordering

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"minikart/modules/catalog"
	"minikart/modules/promo"
	"minikart/platform/apperr"
	"minikart/platform/money"
)

// productLookup finds many products in one call.
type productLookup interface {
	ProductsByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Product, error)
}

// promoApplier validates a coupon code and prices its discount.
type promoApplier interface {
	Apply(ctx context.Context, code string, lines []promo.Line) (promo.Quote, error)
}

// orderStore persists orders.
type orderStore interface {
	Create(ctx context.Context, o storedOrder) error
	Get(ctx context.Context, id uuid.UUID) (storedOrder, error)
}

// Service places and reads orders.
type Service struct {
	products productLookup
	promos   promoApplier
	store    orderStore
	limits   limits
}

// NewService returns the ordering service.
func NewService(p productLookup, pr promoApplier, st orderStore, c Config) *Service {
	return &Service{products: p, promos: pr, store: st, limits: limits{maxItems: c.MaxItems, maxQuantity: c.MaxQuantity}}
}

// Place prices req with current catalogue prices and the coupon's discount,
// and stores it. Money is integer cents throughout; the total never goes
// below zero.
func (s *Service) Place(ctx context.Context, req PlaceOrder) (Order, error) {
	ids := resolveIDs(req.Items)
	found, err := s.products.ProductsByIDs(ctx, uniq(ids))
	if err != nil {
		return Order{}, err
	}
	var p problems
	for i, id := range ids {
		if _, ok := found[id]; !ok {
			p.add(ErrProductNotFound, "items["+strconv.Itoa(i)+"].productId", "no such product", req.Items[i].ProductID)
		}
	}
	if err := p.err(); err != nil {
		return Order{}, err
	}

	o := storedOrder{ID: uuid.New(), Lines: make([]storedLine, len(ids))}
	lines := make([]promo.Line, len(ids))
	for i, id := range ids {
		price := found[id].Price
		o.Lines[i] = storedLine{ProductID: id, Quantity: req.Items[i].Quantity, UnitPrice: price}
		lines[i] = promo.Line{UnitPrice: price, Quantity: req.Items[i].Quantity}
		o.Subtotal += price * money.Cents(req.Items[i].Quantity)
	}
	if req.CouponCode != "" {
		q, err := s.promos.Apply(ctx, req.CouponCode, lines)
		if err != nil {
			return Order{}, err
		}
		o.CouponCode, o.Discount = q.Code, min(q.Discount, o.Subtotal)
	}
	o.Total = o.Subtotal - o.Discount
	if err := s.store.Create(ctx, o); err != nil {
		return Order{}, err
	}
	return s.view(o, found), nil
}

// Get returns a stored order. Its products show the unit price the order
// was placed at, so the amounts add up even after a price change.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Order, error) {
	o, err := s.store.Get(ctx, id)
	if err != nil {
		return Order{}, err
	}
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
// ordered product once, in order of first appearance, at its sold price.
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

// parseOrderID parses an order id path parameter.
func parseOrderID(raw string) (uuid.UUID, error) {
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return uuid.Nil, apperr.ErrInvalidParameter.Withf("orderId must be a UUID").
			WithDetails(apperr.Detail{Field: "orderId", Message: "must be a UUID", Value: apperr.Clip(raw)})
	}
	return id, nil
}
