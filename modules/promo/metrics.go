package promo

import (
	"github.com/prometheus/client_golang/prometheus"

	"minikart/modules/promo/internal/couponset"
	platformmetrics "minikart/platform/metrics"
)

// metrics are the promo module's collectors. Every label takes its values
// from a closed set.
type metrics struct {
	codes       prometheus.Gauge
	generation  prometheus.Gauge
	buildSecs   prometheus.Gauge
	lines       prometheus.Gauge
	loads       *prometheus.CounterVec
	failures    prometheus.Counter
	validations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		codes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coupon_set_codes", Help: "Valid coupon codes in the loaded set.",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coupon_set_generation", Help: "Coupon sets swapped in since start: 1 after the first load, one more per refresh.",
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
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "coupon_set_build_failures_total", Help: "Refreshes of the coupon set that failed; the previous set kept serving.",
		}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promo_validations_total", Help: "Coupon validations by result.",
		}, []string{"result"}),
	}
	return m, platformmetrics.Register(reg, "promo", m.codes, m.generation, m.buildSecs, m.lines, m.loads, m.failures, m.validations)
}

// observeLoad records a set that was just swapped in as generation gen.
func (m *metrics) observeLoad(set *couponset.Set, st couponset.Stats, gen int64) {
	m.codes.Set(float64(set.Len()))
	m.generation.Set(float64(gen))
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
