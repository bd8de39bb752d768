package catalog

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/lifecycle"
)

// changeChannel is the channel the products trigger notifies at every
// commit that changes the menu (migration 0005).
const changeChannel = "catalog_changed"

// listenForChanges keeps the catalogue cache of this instance in step with
// every other: while the cache is on, a connection of its own (outside the
// pool, so it takes no pool slot) LISTENs for changeChannel and each
// notification invalidates the cache at once. While that connection is
// down the cache still expires after catalog.cache_ttl, and the cache is
// invalidated on every reconnect, for the notifications missed meanwhile.
func listenForChanges(lc fx.Lifecycle, c Config, s *Service, pool *pgxpool.Pool, log zerolog.Logger) {
	if c.CacheTTL <= 0 {
		return
	}
	lifecycle.Background(lc, func(ctx context.Context) {
		listen(ctx, pool.Config().ConnConfig, s, log)
	})
}

func listen(ctx context.Context, cfg *pgx.ConnConfig, s *Service, log zerolog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, cfg, s)
		if ctx.Err() != nil {
			return
		}
		log.Warn().Err(err).Dur("retry_in", backoff).Msg("catalogue change listener lost its connection; the cache expires by cache_ttl meanwhile")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, s *Service) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return err
	}
	s.Invalidate()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.Invalidate()
	}
}
