package health_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"minikart/platform/health"
)

func check(name string, r health.Result) health.Check {
	return health.Check{Name: name, Probe: func(context.Context) health.Result { return r }}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		checks  []health.Check
		healthy bool
	}{
		{"no checks", nil, true},
		{"all ok", []health.Check{check("database", health.Result{Status: health.OK}), check("coupons", health.Result{Status: health.OK})}, true},
		{"one degraded", []health.Check{check("database", health.Result{Status: health.OK}), check("coupons", health.Result{Status: health.Degraded, Error: "old set"})}, true},
		{"one loading", []health.Check{check("database", health.Result{Status: health.OK}), check("coupons", health.Result{Status: health.Loading})}, false},
		{"one unavailable", []health.Check{check("database", health.Result{Status: health.Unavailable, Error: "refused"}), check("coupons", health.Result{Status: health.OK})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results, healthy := health.NewHandler(health.Params{Checks: tt.checks}).Run(context.Background())
			if healthy != tt.healthy {
				t.Errorf("healthy = %t, want %t", healthy, tt.healthy)
			}
			if len(results) != len(tt.checks) {
				t.Errorf("got %d results, want %d", len(results), len(tt.checks))
			}
			for _, c := range tt.checks {
				if results[c.Name] != c.Probe(context.Background()) {
					t.Errorf("result of %s = %+v", c.Name, results[c.Name])
				}
			}
		})
	}
}

type report struct {
	Status string                   `json:"status"`
	Checks map[string]health.Result `json:"checks"`
}

func TestRoutes(t *testing.T) {
	ok := []health.Check{check("database", health.Result{Status: health.OK})}
	loading := []health.Check{check("database", health.Result{Status: health.OK}), check("coupons", health.Result{Status: health.Loading})}
	degraded := []health.Check{check("database", health.Result{Status: health.OK}), check("coupons", health.Result{Status: health.Degraded})}
	tests := []struct {
		name   string
		checks []health.Check
		path   string
		status int
		want   string
	}{
		{"readyz when all are ok", ok, "/readyz", http.StatusOK, "ready"},
		{"readyz while loading", loading, "/readyz", http.StatusServiceUnavailable, "not_ready"},
		{"health when all are ok", ok, "/health", http.StatusOK, "ok"},
		{"health while loading", loading, "/health", http.StatusServiceUnavailable, "unavailable"},
		{"readyz while degraded", degraded, "/readyz", http.StatusOK, "ready"},
		{"health while degraded", degraded, "/health", http.StatusOK, "degraded"},
		{"livez while loading", loading, "/livez", http.StatusOK, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := gin.New()
			health.NewHandler(health.Params{Checks: tt.checks}).Register(e)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			var body report
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.status || body.Status != tt.want {
				t.Errorf("got %d %q, want %d %q", rec.Code, body.Status, tt.status, tt.want)
			}
		})
	}
	t.Run("a failing report names the check and its status", func(t *testing.T) {
		e := gin.New()
		health.NewHandler(health.Params{Checks: loading}).Register(e)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body report
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body.Checks["coupons"].Status != health.Loading || body.Checks["database"].Status != health.OK {
			t.Errorf("checks = %+v", body.Checks)
		}
	})
}
