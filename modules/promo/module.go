// Package promo owns coupon codes: which codes are valid (by the coupon files)
// and what discount a valid code grants (by the rules in the promo section).
package promo

import (
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/health"
)

// Module is the promo fx module.
var Module = fx.Module("promo",
	config.Section[Config]("promo"),
	fx.Provide(fx.Private,
		newMetrics,
	),
	fx.Provide(
		NewService,
		health.AsCheck(newCheck),
		cli.AsCommand(newCouponsCommand),
	),
	// Promo has no routes of its own; the codes are those ordering answers
	// with when an order carries a coupon.
	apidoc.Provide(apidoc.Fragment{
		Name:   "promo",
		Errors: []*apperr.Error{ErrInvalidPromoLength, ErrInvalidPromoCode, ErrPromoExhausted, ErrPromoUnavailable},
	}),
	fx.Decorate(func(l zerolog.Logger) zerolog.Logger {
		return l.With().Str("module", "promo").Logger()
	}),
	fx.Invoke(loadCouponSetsOnStart),
)
