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

var (
	ok       = health.Result{Status: health.OK}
	loading  = health.Result{Status: health.Loading}
	down     = health.Result{Status: health.Unavailable, Error: "database not reachable"}
	degraded = health.Result{Status: health.Degraded, Error: "refresh failed, serving the previous data"}
)

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		checks []health.Check
		state  health.State
	}{
		{"no checks", nil, health.Healthy},
		{"all ok", []health.Check{check("database", ok), check("widgets", ok)}, health.Healthy},
		{"one degraded", []health.Check{check("database", ok), check("widgets", degraded)}, health.Impaired},
		{"one loading", []health.Check{check("database", ok), check("widgets", loading)}, health.Unhealthy},
		{"one unavailable", []health.Check{check("database", down), check("widgets", ok)}, health.Unhealthy},
		{"degraded and unavailable", []health.Check{check("database", down), check("widgets", degraded)}, health.Unhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results, state := health.NewHandler(health.Params{Checks: tt.checks}).Run(context.Background())
			if state != tt.state {
				t.Errorf("state = %q, want %q", state, tt.state)
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
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name   string
		checks []health.Check
		path   string
		status int
		want   string
		report map[string]string
	}{
		{"health when all are ok", []health.Check{check("database", ok)}, "/health", 200, "healthy", map[string]string{"database": "ok"}},
		{"health when degraded", []health.Check{check("database", ok), check("widgets", degraded)}, "/health", 200, "degraded",
			map[string]string{"database": "ok", "widgets": "degraded: refresh failed, serving the previous data"}},
		{"health while loading", []health.Check{check("database", ok), check("widgets", loading)}, "/health", 503, "unhealthy",
			map[string]string{"database": "ok", "widgets": "loading"}},
		{"health with the database down", []health.Check{check("database", down)}, "/health", 503, "unhealthy",
			map[string]string{"database": "unavailable: database not reachable"}},
		{"readyz when all are ok", []health.Check{check("database", ok)}, "/readyz", 200, "ready", map[string]string{"database": "ok"}},
		{"readyz when degraded", []health.Check{check("widgets", degraded)}, "/readyz", 200, "ready",
			map[string]string{"widgets": "degraded: refresh failed, serving the previous data"}},
		{"readyz while loading", []health.Check{check("widgets", loading)}, "/readyz", 503, "not_ready", map[string]string{"widgets": "loading"}},
		{"livez while loading", []health.Check{check("widgets", loading)}, "/livez", 200, "ok", nil},
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
			for name, want := range tt.report {
				if body.Checks[name] != want {
					t.Errorf("checks[%s] = %q, want %q (%s)", name, body.Checks[name], want, rec.Body.String())
				}
			}
		})
	}
}

func TestHealthShowsInfoAndReadyzDoesNot(t *testing.T) {
	withInfo := check("coupons", ok)
	withInfo.Info = func() map[string]string { return map[string]string{"decoder": "isal", "source": "index"} }
	e := gin.New()
	health.NewHandler(health.Params{Checks: []health.Check{withInfo, check("database", ok)}}).Register(e)
	get := func(path string) map[string]map[string]string {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body struct {
			Checks map[string]string            `json:"checks"`
			Info   map[string]map[string]string `json:"info"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body.Checks["coupons"] != "ok" {
			t.Errorf("%s: checks = %v, want coupons ok", path, body.Checks)
		}
		return body.Info
	}
	if info := get("/health"); info["coupons"]["decoder"] != "isal" || info["coupons"]["source"] != "index" || len(info) != 1 {
		t.Errorf("/health info = %v, want only coupons with decoder isal, source index", info)
	}
	if info := get("/readyz"); info != nil {
		t.Errorf("/readyz info = %v, want none", info)
	}
}
