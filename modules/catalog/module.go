// Package catalog owns the products: listing them, finding one, looking up
// many at once for other modules (ordering prices its items through it),
// serving their pictures, and the operator's `minikart catalog import|export`
// of the whole menu.
package catalog

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/health"
	"minikart/platform/httpserver"
	"minikart/platform/lifecycle"
	"minikart/platform/paging"
)

// apiDoc is the catalog's part of the API document.
//
//go:embed openapi.yaml
var apiDoc []byte

// Module is the catalog fx module.
var Module = fx.Module("catalog",
	config.Section[Config]("catalog"),
	fx.Provide(fx.Private,
		fx.Annotate(newStore, fx.As(new(productStore)), fx.As(new(menuStore))),
	),
	fx.Provide(
		NewService,
		NewMenu,
		httpserver.AsRoutes(newHandler),
		cli.AsCommand(newCatalogCommand),
		health.AsCheck(newCacheCheck),
	),
	httpserver.AsCORS(httpserver.CORS{
		ExposedHeaders: []string{paging.TotalCountHeader, paging.LinkHeader},
		Methods:        []string{http.MethodGet},
	}),
	apidoc.Provide(apidoc.Fragment{
		Name:   "catalog",
		YAML:   apiDoc,
		Errors: []*apperr.Error{ErrProductNotFound, ErrImageNotFound},
	}),
	fx.Decorate(func(l zerolog.Logger) zerolog.Logger {
		return l.With().Str("module", "catalog").Logger()
	}),
	fx.Invoke(listenForChanges, refreshCache),
)

// refreshCache runs the catalogue cache's refresher while the application
// runs (Service.RefreshInBackground).
func refreshCache(lc fx.Lifecycle, s *Service) {
	lifecycle.Background(lc, s.RefreshInBackground)
}

// newCacheCheck makes the server not ready ("loading") until the catalogue
// cache holds the menu: a load balancer sends no request to an instance
// that would first have to read the whole catalogue (at 100,000 products,
// seconds on a busy host).
func newCacheCheck(s *Service) health.Check {
	return health.Check{
		Name: "catalogue_cache",
		Probe: func(context.Context) health.Result {
			if s.Warmed() {
				return health.Result{Status: health.OK}
			}
			return health.Result{Status: health.Loading, Error: "reading the catalogue into the cache"}
		},
	}
}
