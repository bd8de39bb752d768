package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"minikart/platform/metrics"
)

func TestHandlerServesTheRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	orders := prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders placed."})
	reg.MustRegister(orders)
	orders.Add(3)

	e := gin.New()
	metrics.NewHandler(reg, true).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	for _, want := range []string{"orders_placed_total 3", "go_goroutines", "process_"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	c := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders placed."})
	}
	if err := metrics.NewRegistry().Register(c()); err != nil {
		t.Fatal(err)
	}
	if err := metrics.NewRegistry().Register(c()); err != nil {
		t.Errorf("a second registry refused the same collector: %v", err)
	}
}

func TestPrivateHandlerMountsNothing(t *testing.T) {
	e := gin.New()
	metrics.NewHandler(metrics.NewRegistry(), false).Register(e)
	if routes := e.Routes(); len(routes) != 0 {
		t.Errorf("private metrics mounted %v on the public router", routes)
	}
}
