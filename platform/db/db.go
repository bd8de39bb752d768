// Package db provides the PostgreSQL pool (pgxpool) and, over the same pool,
// the *sqlx.DB the module stores use, plus ReadDB for reads that may be
// served by a standby. It pings with retry at start, runs the migrations
// when configured to, and closes the pools at stop.
package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/health"
	"minikart/platform/metrics"
	"minikart/platform/tracing"
)

// Config is the database section.
type Config struct {
	URL             string        `mapstructure:"url" secret:"true"`
	ReadURL         string        `mapstructure:"read_url" secret:"true"`
	MaxConns        int32         `mapstructure:"max_conns"`
	MinConns        int32         `mapstructure:"min_conns"`
	MaxConnLifetime time.Duration `mapstructure:"max_conn_lifetime"`
	MaxConnIdleTime time.Duration `mapstructure:"max_conn_idle_time"`
	ConnectTimeout  time.Duration `mapstructure:"connect_timeout"`
	StartDeadline   time.Duration `mapstructure:"start_deadline"`
	MigrateOnStart  bool          `mapstructure:"migrate_on_start"`
	// PlanCacheMode is PostgreSQL's plan_cache_mode for the pool's
	// sessions; "" leaves the server's setting.
	PlanCacheMode string `mapstructure:"plan_cache_mode"`
	// JIT is PostgreSQL's jit for the pool's sessions ("on" or "off"); ""
	// leaves the server's setting.
	JIT string `mapstructure:"jit"`

	// from says where URL came from when not from the configuration itself.
	from string
}

// Validate checks the pool settings.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, config.Invalid("url", "is required (set MINIKART_DATABASE_URL or DATABASE_URL)"))
	} else if _, err := pgxpool.ParseConfig(c.URL); err != nil {
		errs = append(errs, config.Invalid("url", "is not a valid PostgreSQL URL"))
	}
	if _, err := pgxpool.ParseConfig(c.ReadURL); c.ReadURL != "" && err != nil {
		errs = append(errs, config.Invalid("read_url", "is not a valid PostgreSQL URL"))
	}
	if c.MaxConns < 1 {
		errs = append(errs, config.Invalid("max_conns", "must be at least 1, got %d", c.MaxConns))
	}
	if c.MinConns < 0 || c.MinConns > c.MaxConns {
		errs = append(errs, config.Invalid("min_conns", "must be between 0 and max_conns (%d), got %d", c.MaxConns, c.MinConns))
	}
	if !slices.Contains(planCacheModes, c.PlanCacheMode) {
		errs = append(errs, config.Invalid("plan_cache_mode", "must be one of %q, got %q", planCacheModes, c.PlanCacheMode))
	}
	if !slices.Contains(jitModes, c.JIT) {
		errs = append(errs, config.Invalid("jit", "must be one of %q, got %q", jitModes, c.JIT))
	}
	errs = append(errs,
		config.Positive("max_conn_lifetime", c.MaxConnLifetime),
		config.Positive("max_conn_idle_time", c.MaxConnIdleTime),
		config.Positive("connect_timeout", c.ConnectTimeout),
		config.Positive("start_deadline", c.StartDeadline),
	)
	return errors.Join(errs...)
}

// planCacheModes are the values of database.plan_cache_mode: PostgreSQL's
// own, or "" for the server's setting (a pooler that refuses start-up
// parameters it does not know).
var planCacheModes = []string{"", "auto", "force_generic_plan", "force_custom_plan"}

// jitModes are the values of database.jit, "" as for planCacheModes.
var jitModes = []string{"", "on", "off"}

// Module provides *pgxpool.Pool, *sqlx.DB and ReadDB.
var Module = fx.Module("db",
	config.Section[Config]("database", config.Alias("url", urlAlias)),
	fx.Decorate(checkoutDatabase),
	fx.Provide(
		NewPool,
		NewSQLX,
		NewReadDB,
		health.AsCheck(newCheck),
		health.AsCheck(newSchemaCheck),
		cli.AsCommand(newMigrateCommand),
	),
	fx.Invoke(registerPrimaryPoolMetrics),
)

// NewPool builds the pool without connecting; the start hook pings it with
// retry and the stop hook closes it. Stop hooks run in reverse order, so the
// HTTP server, started later, drains before the pool closes. With tracing
// on, each statement run within a traced request has a span.
func NewPool(lc fx.Lifecycle, c Config, log zerolog.Logger, tr *tracing.Tracing) (*pgxpool.Pool, error) {
	log = log.With().Str("component", "db").Logger()
	pool, err := open(c.URL, "database.url", c, announce(c, log), tr.QueryTracer())
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := PingWithRetry(ctx, pool, c.StartDeadline, log); err != nil {
				return err
			}
			if c.MigrateOnStart {
				if err := MigrateUp(ctx, pool, log); err != nil {
					return err
				}
			}
			got, want, err := checkSchema(ctx, pool)
			if err != nil {
				return err
			}
			if got > want {
				log.Warn().Uint("schema_version", got).Uint("binary_version", want).Msg("database schema is newer than this binary")
			}
			return nil
		},
		OnStop: func(context.Context) error {
			pool.Close()
			return nil
		},
	})
	return pool, nil
}

// Open builds a pool from c without connecting.
func Open(c Config) (*pgxpool.Pool, error) {
	return open(c.URL, "database.url", c, nil, nil)
}

// announce returns a hook that logs, when the pool first hands out a
// connection, which database it uses (host:port/database, and where the URL
// came from when not from the configuration), so an operator's command says
// which database it works on. The connections a pool opens ahead of use
// (min_conns) say nothing, so a command's --help stays quiet.
func announce(c Config, log zerolog.Logger) func(context.Context, *pgx.Conn) (bool, error) {
	var once sync.Once
	return func(_ context.Context, conn *pgx.Conn) (bool, error) {
		once.Do(func() {
			e := log.Info()
			if c.from != "" {
				e = e.Str("from", c.from)
			}
			e.Msg("using database " + Where(conn.Config()))
		})
		return true, nil
	}
}

// SessionParams are the run-time parameters the pool's sessions start with
// (plan_cache_mode and jit, when set), as PostgreSQL names them.
func (c Config) SessionParams() map[string]string {
	p := map[string]string{}
	for name, v := range map[string]string{"plan_cache_mode": c.PlanCacheMode, "jit": c.JIT} {
		if v != "" {
			p[name] = v
		}
	}
	return p
}

// open builds a pool on url with c's pool settings; key names url in
// errors. prepare, when set, runs before each connection is handed out;
// tracer, when set, sees each statement.
func open(url, key string, c Config, prepare func(context.Context, *pgx.Conn) (bool, error), tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx errors can quote the URL, password included: never wrap them.
		return nil, errors.New(key + ": invalid PostgreSQL URL")
	}
	pc.MaxConns = c.MaxConns
	pc.MinConns = c.MinConns
	pc.MaxConnLifetime = c.MaxConnLifetime
	pc.MaxConnIdleTime = c.MaxConnIdleTime
	pc.ConnConfig.ConnectTimeout = c.ConnectTimeout
	maps.Copy(pc.ConnConfig.RuntimeParams, c.SessionParams())
	pc.PrepareConn = prepare
	pc.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	return pool, nil
}

// NewSQLX exposes the pool as *sqlx.DB through pgx's database/sql driver.
func NewSQLX(pool *pgxpool.Pool) *sqlx.DB {
	return sqlx.NewDb(stdlib.OpenDBFromPool(pool), "pgx")
}

// ReadDB serves reads that may lag the primary by a moment (listings a
// module chooses to serve from standbys). With database.read_url set it is a pool of its own, typically on
// standbys (target_session_attrs=prefer-standby); otherwise it is the
// primary's *sqlx.DB. Anything that feeds a write reads through *sqlx.DB
// instead.
type ReadDB struct {
	*sqlx.DB
	// pool is the read pool; nil when reads share the primary's.
	pool *pgxpool.Pool
}

// NewReadDB opens the read pool when database.read_url is set: pinged with
// retry at start, closed at stop, its statistics exported as db_read_pool_*,
// its statements traced like the primary's.
func NewReadDB(lc fx.Lifecycle, c Config, primary *sqlx.DB, reg prometheus.Registerer, log zerolog.Logger, tr *tracing.Tracing) (ReadDB, error) {
	if c.ReadURL == "" {
		return ReadDB{DB: primary}, nil
	}
	pool, err := open(c.ReadURL, "database.read_url", c, nil, tr.QueryTracer())
	if err != nil {
		return ReadDB{}, err
	}
	if err := registerPoolMetrics(reg, "db_read_pool_", pool); err != nil {
		return ReadDB{}, err
	}
	log = log.With().Str("component", "db").Str("pool", "read").Logger()
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			return PingWithRetry(ctx, pool, c.StartDeadline, log)
		},
		OnStop: func(context.Context) error {
			pool.Close()
			return nil
		},
	})
	return ReadDB{DB: NewSQLX(pool), pool: pool}, nil
}

// PingWithRetry pings until the database answers, backing off exponentially
// up to deadline (or ctx's own deadline, whichever comes first). It logs a
// problem once, when it first appears, not at every attempt; and an error
// that waiting cannot cure (a refused role or password, a database that does
// not exist, a host name that does not resolve) ends it at once.
func PingWithRetry(ctx context.Context, pool *pgxpool.Pool, deadline time.Duration, log zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	backoff := 100 * time.Millisecond
	where := Where(pool.Config().ConnConfig)
	last := ""
	for attempt := 1; ; attempt++ {
		pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pingCtx)
		pingCancel()
		if err == nil {
			if attempt > 1 {
				log.Info().Int("attempt", attempt).Msg("database reachable")
			}
			return nil
		}
		cause := Cause(err)
		if reason := Permanent(err); reason != "" {
			return fmt.Errorf("database %s: %s: %s", where, reason, cause)
		}
		if cause != last {
			last = cause
			log.Warn().Str("database", where).Str("error", cause).Str("retrying_for", deadline.String()).Msg("database not reachable yet")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("database not reachable within %s (%d attempts): %s: %s", deadline, attempt, where, cause)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// newCheck probes the primary and, when there is one, the read pool. A read
// pool that does not answer only degrades the server: writes still work, and
// every instance shares the replicas, so taking them all out of rotation
// would only add the writes to what is lost.
func newCheck(pool *pgxpool.Pool, read ReadDB) health.Check {
	return health.Check{
		Name: "database",
		Probe: func(ctx context.Context) health.Result {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := pool.Ping(ctx); err != nil {
				return health.Result{Status: health.Unavailable, Error: "database not reachable"}
			}
			if read.pool != nil {
				if err := read.pool.Ping(ctx); err != nil {
					return health.Result{Status: health.Degraded, Error: "read database not reachable"}
				}
			}
			return health.Result{Status: health.OK}
		},
	}
}

// registerPrimaryPoolMetrics exports the primary pool's statistics.
func registerPrimaryPoolMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) error {
	return registerPoolMetrics(reg, "db_pool_", pool)
}

// registerPoolMetrics exports a pool's statistics as gauges and counters
// whose names start with prefix.
func registerPoolMetrics(reg prometheus.Registerer, prefix string, pool *pgxpool.Pool) error {
	gauge := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + name, Help: help},
			func() float64 { return f(pool.Stat()) })
	}
	counter := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: prefix + name, Help: help},
			func() float64 { return f(pool.Stat()) })
	}
	return metrics.Register(reg, strings.TrimSuffix(prefix, "_"),
		gauge("acquired_conns", "Connections currently in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		gauge("idle_conns", "Idle connections in the pool.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		gauge("total_conns", "Open connections.", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		gauge("max_conns", "Configured maximum connections.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		gauge("constructing_conns", "Connections being opened.", func(s *pgxpool.Stat) float64 { return float64(s.ConstructingConns()) }),
		counter("acquires_total", "Successful acquires.", func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		counter("empty_acquires_total", "Acquires that had to wait for a connection.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		counter("acquire_wait_seconds_total", "Time spent waiting for a connection.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
		counter("canceled_acquires_total", "Acquires canceled by their context.", func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
	)
}
