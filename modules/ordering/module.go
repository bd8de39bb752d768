// Package ordering owns orders: it validates an order request, prices it
// through the catalog and promo services, and stores the order with its
// items in one transaction.
package ordering

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/catalog"
	"minikart/modules/promo"
	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/auth"
	"minikart/platform/config"
	"minikart/platform/health"
	"minikart/platform/httpserver"
	"minikart/platform/lifecycle"
)

// apiDoc is the ordering module's part of the API document.
//
//go:embed openapi.yaml
var apiDoc []byte

// Module is the ordering fx module.
var Module = fx.Module("ordering",
	config.Section[Config]("ordering"),
	fx.Provide(fx.Private,
		fx.Annotate(newStore, fx.As(new(orderStore)), fx.As(new(historyStore))),
		func(s *catalog.Service) productLookup { return s },
		func(s *promo.Service) promoApplier { return s },
		func(s *promo.Service) counterStarter { return s },
		newMetrics,
		newCountersStarted,
	),
	fx.Provide(
		NewService,
		NewHistory,
		httpserver.AsRoutes(newHandler),
		health.AsCheck(newCountersCheck),
	),
	httpserver.AsCORS(httpserver.CORS{
		RequestHeaders: []string{auth.Header, IdempotencyHeader},
		ExposedHeaders: []string{ReplayedHeader},
		Methods:        []string{http.MethodGet, http.MethodPost},
	}),
	apidoc.Provide(apidoc.Fragment{
		Name: "ordering",
		YAML: apiDoc,
		Errors: []*apperr.Error{
			ErrInvalidQuantity, ErrTooManyItems,
			ErrInvalidIdempotencyKey, ErrProductNotFound, ErrOrderNotFound,
			ErrIdempotencyKeyReused, ErrIdempotencyKeyInProgress,
		},
	}),
	fx.Decorate(func(l zerolog.Logger) zerolog.Logger {
		return l.With().Str("module", "ordering").Logger()
	}),
	fx.Invoke(purgeKeysPeriodically, startRedemptionCounters),
)

// counterStarter starts the redemption counters of limited codes.
type counterStarter interface {
	LimitedCodes() []string
	StartCounter(ctx context.Context, db sqlx.ExtContext, code string, prior promo.PriorUses) (bool, error)
}

// countersStarted is closed once startRedemptionCounters has gone through
// every limited code.
type countersStarted chan struct{}

func newCountersStarted() countersStarted { return make(countersStarted) }

// newCountersCheck makes the server not ready ("loading") until the counters
// of the limited codes have started: a load balancer sends it no order that
// would have to count a code's past orders itself (a scan of millions of
// rows on a large orders table) while the counter is being started.
func newCountersCheck(started countersStarted) health.Check {
	return health.Check{
		Name: "redemption_counters",
		Probe: func(context.Context) health.Result {
			select {
			case <-started:
				return health.Result{Status: health.OK}
			default:
				return health.Result{Status: health.Loading, Error: "starting the redemption counters of limited codes from their past orders"}
			}
		},
	}
}

// startRedemptionCounters starts, in the background once the application
// has started, the counter of every code the rules limit by name, from the
// orders stored with it so far: a limit configured for a code already in use
// then costs its first order a counter bump instead of a count of its past
// orders. The server is not ready until it is done (newCountersCheck).
// Should a start fail, that code's first order counts its past orders
// itself, as before.
func startRedemptionCounters(lc fx.Lifecycle, promos counterStarter, st orderStore, db *sqlx.DB, started countersStarted, log zerolog.Logger) {
	lifecycle.Background(lc, func(ctx context.Context) {
		for _, code := range promos.LimitedCodes() {
			start := time.Now()
			prior := func(ctx context.Context, tx sqlx.ExtContext) (int64, error) {
				return st.CouponUses(ctx, tx, code, uuid.Nil)
			}
			ok, err := promos.StartCounter(ctx, db, code, prior)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Warn().Err(err).Str("code", code).Msg("redemption counter not started; its first order will count its past orders")
			case ok:
				log.Info().Str("code", code).Dur("duration", time.Since(start)).Msg("redemption counter started from past orders")
			}
		}
		close(started)
	})
}

// purgeKeysPeriodically deletes expired idempotency keys in the background
// while the application runs. Several instances purging is harmless.
func purgeKeysPeriodically(lc fx.Lifecycle, s *Service, c Config, log zerolog.Logger) {
	lifecycle.Background(lc, func(ctx context.Context) {
		t := time.NewTicker(c.IdempotencyPurgeInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n, err := s.PurgeExpiredKeys(ctx)
				if err != nil && ctx.Err() == nil {
					log.Warn().Err(err).Msg("purge idempotency keys")
				} else if n > 0 {
					log.Info().Int64("deleted", n).Msg("purged expired idempotency keys")
				}
			}
		}
	})
}
