package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"minikart/platform/apperr"
	"minikart/platform/metrics"
)

func TestHandlerServesTheRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	orders := prometheus.NewCounter(prometheus.CounterOpts{Name: "widgets_made_total", Help: "Widgets made."})
	reg.MustRegister(orders)
	orders.Add(3)

	e := gin.New()
	metrics.NewHandler(reg, true).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	for _, want := range []string{"widgets_made_total 3", "go_goroutines", "process_"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	c := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "widgets_made_total", Help: "Widgets made."})
	}
	if err := metrics.NewRegistry().Register(c()); err != nil {
		t.Fatal(err)
	}
	if err := metrics.NewRegistry().Register(c()); err != nil {
		t.Errorf("a second registry refused the same collector: %v", err)
	}
}

func TestPrivateHandlerServesNoMetrics(t *testing.T) {
	reg := metrics.NewRegistry()
	e := gin.New()
	var recorded []error
	e.Use(func(c *gin.Context) {
		c.Next()
		for _, err := range c.Errors {
			recorded = append(recorded, err.Err)
		}
	})
	metrics.NewHandler(reg, false).Register(e)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if len(recorded) != 1 || !errors.Is(recorded[0], apperr.ErrNotFound) || strings.Contains(w.Body.String(), "go_goroutines") {
		t.Errorf("private /metrics recorded %v and wrote %q; want NOT_FOUND for the error middleware and no metrics", recorded, w.Body.String())
	}
}
