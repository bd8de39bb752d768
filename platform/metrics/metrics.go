// Package metrics provides the Prometheus registry every module registers its
// collectors with, and serves it at GET /metrics.
package metrics

import (
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
)

// Module provides a fresh registry per application, so several apps in one
// test process never collide on the global default registry.
var Module = fx.Module("metrics",
	fx.Provide(
		NewRegistry,
		func(r *prometheus.Registry) prometheus.Registerer { return r },
	),
)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Handler serves the registry in the Prometheus exposition format.
type Handler struct{ reg *prometheus.Registry }

// NewHandler returns the /metrics handler for reg.
func NewHandler(reg *prometheus.Registry) *Handler { return &Handler{reg: reg} }

// Register mounts GET /metrics.
func (h *Handler) Register(r gin.IRouter) {
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{})))
}

// Register registers every collector with reg, naming the owner in the
// error (a duplicate name is a wiring mistake, reported at start).
func Register(reg prometheus.Registerer, owner string, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register %s metrics: %w", owner, err)
		}
	}
	return nil
}
