package ordering

import (
	"errors"

	"minikart/platform/apperr"
)

// Errors a client may see from the order routes.
var (
	ErrInvalidQuantity = apperr.New(apperr.Invalid, "INVALID_QUANTITY", "quantity must be a whole number from 1 to the maximum")
	ErrTooManyItems    = apperr.New(apperr.Invalid, "TOO_MANY_ITEMS", "too many items in one order")
	ErrProductNotFound = apperr.New(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "one or more products do not exist")
	ErrOrderNotFound   = apperr.New(apperr.NotFound, "ORDER_NOT_FOUND", "order not found")

	ErrInvalidIdempotencyKey    = apperr.New(apperr.Invalid, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1 to 255 visible ASCII characters")
	ErrIdempotencyKeyReused     = apperr.New(apperr.Conflict, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request")
	ErrIdempotencyKeyInProgress = apperr.New(apperr.Conflict, "IDEMPOTENCY_KEY_IN_PROGRESS", "a request with this Idempotency-Key is still being processed, retry shortly").WithRetryAfter(1)
)

// errStalePrices is the store's answer to an order whose prices, names or
// categories are no longer the catalogue's: nothing was written, and the
// order is priced again from the database.
var errStalePrices = errors.New("order priced from a catalogue that has changed since")
