package ordering

import (
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
	ID         uuid.UUID
	CouponCode string
	Subtotal   money.Cents
	Discount   money.Cents
	Total      money.Cents
	Lines      []storedLine
}

// storedLine is an order item with the unit price it was sold at.
type storedLine struct {
	ProductID int64
	Quantity  int
	UnitPrice money.Cents
}
