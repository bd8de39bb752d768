// Package admin is the admin API under /api/admin, for the shop's owner and
// operators: the menu product by product (list with removed ones, create
// or replace, remove, upload a picture) and every order (filtered lists newest first with
// cursor pages, one order, totals by day or coupon). Every route takes an
// admin key (auth.admin_keys); every change is written to the log as an
// audit line naming the admin key id, and counted.
//
// Not to be confused with platform/admin, the operator listener (metrics
// and pprof on a private port, configured under admin:). This module's
// configuration section, fx module, log field and metrics are therefore
// named admin_api.
package admin

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/catalog"
	"minikart/modules/ordering"
	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/auth"
	"minikart/platform/config"
	"minikart/platform/httpserver"
	"minikart/platform/paging"
)

// apiDoc is the admin API's part of the API document.
//
//go:embed openapi.yaml
var apiDoc []byte

// name is the module's name where platform/admin already uses "admin": its
// config section, fx module, log field and metric prefix.
const name = "admin_api"

// Module is the admin API fx module.
var Module = fx.Module(name,
	config.Section[Config](name),
	fx.Provide(fx.Private,
		func(m *catalog.Menu) menuEditor { return m },
		func(h *ordering.History) orderHistory { return h },
		newMetrics,
	),
	fx.Provide(httpserver.AsRoutes(newHandler)),
	httpserver.AsCORS(httpserver.CORS{
		RequestHeaders: []string{auth.Header},
		ExposedHeaders: []string{paging.LinkHeader},
		Methods:        []string{http.MethodGet, http.MethodPut, http.MethodDelete},
	}),
	apidoc.Provide(apidoc.Fragment{
		Name:   name,
		YAML:   apiDoc,
		Errors: []*apperr.Error{catalog.ErrProductNotFound, catalog.ErrUnsupportedImageType, catalog.ErrImageMissing, ordering.ErrOrderNotFound},
	}),
	fx.Decorate(func(l zerolog.Logger) zerolog.Logger {
		return l.With().Str("module", name).Logger()
	}),
)

// menuEditor changes the menu one product at a time (catalog.Menu).
type menuEditor interface {
	Products(ctx context.Context) ([]catalog.MenuProduct, error)
	Put(ctx context.Context, id int64, fields map[string]any) (catalog.Product, catalog.Outcome, error)
	Remove(ctx context.Context, id int64) (catalog.Outcome, error)
	SetImage(ctx context.Context, id int64, body []byte) (catalog.Product, catalog.Outcome, error)
	MaxImageBytes() int64
}

// orderHistory reads every order (ordering.History).
type orderHistory interface {
	List(ctx context.Context, f ordering.OrderFilter, after *ordering.OrderPosition, limit int) ([]ordering.OrderSummary, error)
	Get(ctx context.Context, id uuid.UUID) (ordering.PlacedOrder, error)
	Totals(ctx context.Context, by ordering.TotalsBy, from, to time.Time) ([]ordering.Total, error)
}
