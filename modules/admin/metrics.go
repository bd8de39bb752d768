package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	platformmetrics "minikart/platform/metrics"
)

// metrics count the changes made through the admin API. The labels come
// from closed sets: the resource, the action and catalog's outcomes, never
// an id or a key.
type metrics struct {
	changes *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{changes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: name + "_changes_total",
		Help: "Changes made through the admin API, by resource, action (put, delete, image) and outcome (created, restored, replaced, unchanged, removed).",
	}, []string{"resource", "action", "outcome"})}
	return m, platformmetrics.Register(reg, name, m.changes)
}
