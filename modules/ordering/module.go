// Package ordering owns orders: it validates an order request, prices it
// through the catalog and promo services, and stores the order with its
// items in one transaction.
package ordering

import (
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/catalog"
	"minikart/modules/promo"
	"minikart/platform/config"
	"minikart/platform/httpserver"
)

// Module is the ordering fx module.
var Module = fx.Module("ordering",
	fx.Provide(fx.Private,
		config.Section[Config]("ordering"),
		fx.Annotate(newStore, fx.As(new(orderStore))),
		func(s *catalog.Service) productLookup { return s },
		func(s *promo.Service) promoApplier { return s },
	),
	fx.Provide(
		NewService,
		httpserver.AsRoutes(newHandler),
	),
	fx.Decorate(func(l zerolog.Logger) zerolog.Logger {
		return l.With().Str("module", "ordering").Logger()
	}),
)
