package promo

import "minikart/platform/apperr"

// Errors a client may see when it sends a coupon code.
var (
	ErrInvalidPromoLength = apperr.New(apperr.Unprocessable, "INVALID_PROMO_LENGTH", "coupon code must be 8 to 10 characters")
	ErrInvalidPromoCode   = apperr.New(apperr.Unprocessable, "INVALID_PROMO_CODE", "coupon code is not valid")
	ErrPromoExhausted     = apperr.New(apperr.Unprocessable, "PROMO_EXHAUSTED", "coupon code has reached its redemption limit")
	ErrPromoUnavailable   = apperr.New(apperr.Unavailable, "PROMO_UNAVAILABLE", "coupon codes are still loading, retry shortly").WithRetryAfter(5)
)
