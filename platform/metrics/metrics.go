// Package metrics provides the Prometheus registry every module registers its
// collectors with, and serves it at GET /metrics: on the admin listener, and
// on the public port too where server.public_metrics allows it.
package metrics

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"

	"minikart/platform/apperr"
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

// HTTPHandler serves reg in the Prometheus exposition format. A collector
// that fails is left out of the answer (and counted in
// promhttp_metric_handler_errors_total) rather than failing the scrape
// with a plain-text error.
func HTTPHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: reg})
}

// Handler mounts GET /metrics on the public router, when public.
type Handler struct {
	reg    *prometheus.Registry
	public bool
}

// NewHandler returns the /metrics route for reg; with public false it
// mounts nothing (the admin listener serves the metrics instead).
func NewHandler(reg *prometheus.Registry, public bool) *Handler {
	return &Handler{reg: reg, public: public}
}

// Register mounts GET /metrics. Where metrics are not public it answers the
// server's JSON 404, as for any path it does not serve, so the route (and the
// document that describes it) is the same in every environment.
func (h *Handler) Register(r gin.IRouter) {
	if !h.public {
		r.GET("/metrics", func(c *gin.Context) { _ = c.Error(apperr.ErrNotFound) })
		return
	}
	r.GET("/metrics", gin.WrapH(HTTPHandler(h.reg)))
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
