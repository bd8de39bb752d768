package ordering

import (
	"time"

	"github.com/google/uuid"

	"minikart/modules/catalog"
	"minikart/platform/money"
)

// Order is a placed order, in the contract's shape.
type Order struct {
	ID        uuid.UUID         `json:"id"`
	Items     []Item            `json:"items"`
	Products  []catalog.Product `json:"products"`
	Total     money.Cents       `json:"total"`
	Discounts money.Cents       `json:"discounts"`
}

// Item is one requested line: a product and how many of it.
type Item struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

// PlaceOrder is a validated order request.
type PlaceOrder struct {
	Items []Item
	// CouponCode is empty when the client sent none (or only blanks).
	CouponCode string
}

// storedOrder is an order as the store writes and reads it.
type storedOrder struct {
	ID uuid.UUID
	// KeyID is the id of the api key that placed the order, "" for an
	// anonymous order. Only that key id reads the order.
	KeyID      string
	CouponCode string
	Subtotal   money.Cents
	Discount   money.Cents
	Total      money.Cents
	Lines      []storedLine
}

// storedLine is an order item with the product's name, category and unit
// price as sold. Name and Category are empty for items stored before they
// were kept.
type storedLine struct {
	ProductID int64
	Quantity  int
	UnitPrice money.Cents
	Name      string
	Category  string
}

// idempotencyRecord is what the store keeps for an Idempotency-Key: the
// hash of the request it was first used with and the response it got.
type idempotencyRecord struct {
	scope       string
	key         string
	requestHash []byte
	response    []byte
	ttl         time.Duration
}

// Placed is the outcome of placing an order: the response body, and
// whether it replays an earlier request with the same Idempotency-Key.
type Placed struct {
	Body     []byte
	Replayed bool
}

// Idempotency identifies a client's retry-safe request: Key as sent in the
// Idempotency-Key header (empty for none), Scope the caller's identity.
type Idempotency struct {
	Scope string
	Key   string
}
