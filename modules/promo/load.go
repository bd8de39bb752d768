package promo

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/health"
	platformmetrics "minikart/platform/metrics"
)

// loadCouponSetsOnStart loads the coupon set in the start hook. Blocking
// mode holds start-up (and so the HTTP server, started after this hook)
// until the set is ready; background mode returns at once and a failure
// later shuts the application down with a non-zero exit code.
func loadCouponSetsOnStart(lc fx.Lifecycle, sd fx.Shutdowner, s *Service, c Config, log zerolog.Logger) {
	var cancel context.CancelFunc = func() {}
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if c.Load == LoadBlocking {
				defer close(done)
				return s.load(ctx, c, log)
			}
			var bg context.Context
			bg, cancel = context.WithCancel(context.Background())
			go func() {
				defer close(done)
				if err := s.load(bg, c, log); err != nil && bg.Err() == nil {
					log.Error().Err(err).Msg("coupon set failed to load; shutting down")
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			cancel()
			select {
			case <-done:
			case <-ctx.Done():
			}
			return nil
		},
	})
}

// load builds (or reads from the index) the coupon set and swaps it in.
func (s *Service) load(ctx context.Context, c Config, log zerolog.Logger) error {
	log.Info().Strs("files", c.Files).Int("min_files", c.MinFiles).Str("mode", c.Load).Msg("loading coupon set")
	start := time.Now()
	set, st, err := s.loadSet(ctx, couponset.Options{
		Files:     c.Files,
		MinFiles:  c.MinFiles,
		IndexPath: c.IndexPath,
		Decoder:   c.Decoder,
		OnProgress: func(p couponset.Progress) {
			ev := log.Info().Str("file", p.File).
				Float64("mb_read", float64(p.CompressedRead)/1e6).
				Int64("lines", p.Lines)
			if el := time.Since(start).Seconds(); el > 0 {
				ev = ev.Float64("lines_per_s", float64(p.Lines)/el)
			}
			if p.CompressedTotal > 0 {
				ev = ev.Float64("pct", 100*float64(p.CompressedRead)/float64(p.CompressedTotal))
			}
			ev.Msg("coupon set progress")
		},
	})
	if err != nil {
		return fmt.Errorf("load coupon set: %w", err)
	}
	s.swapIn(set)
	s.metrics.observeLoad(set, st)
	if st.IndexError != "" {
		// The set is good; only the next start will have to build again.
		log.Warn().Str("index", c.IndexPath).Str("error", st.IndexError).Msg("coupon index not written")
	}
	log.Info().Int("codes", set.Len()).Bool("from_index", st.FromIndex).Bool("index_rebuilt", st.IndexRebuilt).
		Int64("lines", st.Lines).Dur("duration", st.Duration).Str("decoder", st.Decoder).Msg("coupon set ready")
	return nil
}

func newCheck(s *Service) health.Check {
	return health.Check{
		Name: "coupons",
		Probe: func(context.Context) health.Result {
			if s.Ready() {
				return health.Result{Status: health.OK}
			}
			return health.Result{Status: health.Loading}
		},
	}
}

// metrics are the promo module's collectors.
type metrics struct {
	codes       prometheus.Gauge
	buildSecs   prometheus.Gauge
	lines       prometheus.Gauge
	loads       *prometheus.CounterVec
	validations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		codes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coupon_set_codes", Help: "Valid coupon codes in the loaded set.",
		}),
		buildSecs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coupon_set_build_seconds", Help: "Seconds the last coupon set load took.",
		}),
		lines: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coupon_set_lines_read", Help: "Lines read from the coupon files by the last build (0 on an index hit).",
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coupon_set_loads_total", Help: "Coupon set loads by source: index_hit, rebuild (index stale or corrupt) or build (no index).",
		}, []string{"source"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promo_validations_total", Help: "Coupon validations by result.",
		}, []string{"result"}),
	}
	return m, platformmetrics.Register(reg, "promo", m.codes, m.buildSecs, m.lines, m.loads, m.validations)
}

func (m *metrics) observeLoad(set *couponset.Set, st couponset.Stats) {
	m.codes.Set(float64(set.Len()))
	m.buildSecs.Set(st.Duration.Seconds())
	m.lines.Set(float64(st.Lines))
	switch {
	case st.FromIndex:
		m.loads.WithLabelValues("index_hit").Inc()
	case st.IndexRebuilt:
		m.loads.WithLabelValues("rebuild").Inc()
	default:
		m.loads.WithLabelValues("build").Inc()
	}
}
