// Package catalog owns the products: listing them, finding one, looking up
// many at once for other modules (ordering prices its items through it),
// serving their pictures, and the operator's `minikart catalog import|export`
// of the whole menu.
package catalog

import (
	_ "embed"
	"net/http"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/httpserver"
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
	fx.Invoke(listenForChanges),
)
