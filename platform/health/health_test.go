package health_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

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

var detailsPublic = health.Settings{PublicDetails: true}

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
			health.NewHandler(health.Params{Checks: tt.checks, Settings: detailsPublic}).Register(e)
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
	health.NewHandler(health.Params{Checks: []health.Check{withInfo, check("database", ok)}, Settings: detailsPublic}).Register(e)
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

// schemaBehind fails as the schema check does, with a hint meant for
// operators only.
var schemaBehind = health.Result{Status: health.Unavailable, Error: "it is at version 7 and this binary needs version 8: run `minikart migrate up`"}

// TestPublicAnswersSayOnlyStates: without PublicDetails the public /readyz
// and /health say the verdict and each check's state, never what is wrong
// nor the checks' Info; the operators' handler says all of it.
func TestPublicAnswersSayOnlyStates(t *testing.T) {
	withInfo := check("coupons", degraded)
	withInfo.Info = func() map[string]string { return map[string]string{"files": "couponbase1.gz"} }
	h := health.NewHandler(health.Params{Checks: []health.Check{withInfo, check("schema", schemaBehind)}})
	e := gin.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	adm := httptest.NewServer(h.Detailed())
	defer adm.Close()
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for path, want := range map[string]string{
		"/readyz": `{"status":"not_ready","checks":{"coupons":"degraded","schema":"unavailable"}}`,
		"/health": `{"status":"unhealthy","checks":{"coupons":"degraded","schema":"unavailable"}}`,
	} {
		if status, body := get(srv.URL + path); status != 503 || body != want {
			t.Errorf("public %s = %d %s, want 503 %s", path, status, body, want)
		}
		status, body := get(adm.URL + path)
		if status != 503 || !strings.Contains(body, "minikart migrate up") || !strings.Contains(body, "refresh failed") {
			t.Errorf("detailed %s = %d %s, want 503 with what is wrong", path, status, body)
		}
		if strings.Contains(body, "couponbase1.gz") != (path == "/health") {
			t.Errorf("detailed %s = %s: Info belongs to /health only", path, body)
		}
	}
}

// countingCheck counts its probes and answers what result holds.
type countingCheck struct {
	probes atomic.Int64
	result atomic.Pointer[health.Result]
}

func (c *countingCheck) check(name string) health.Check {
	return health.Check{Name: name, Probe: func(context.Context) health.Result {
		c.probes.Add(1)
		return *c.result.Load()
	}}
}

// TestProbesAnswerFromTheLastRefresh: probes, however many, run no check;
// the background refresh does, once a RefreshInterval (a tenth of it while
// not ready), and a check that changes state is logged with what is wrong.
func TestProbesAnswerFromTheLastRefresh(t *testing.T) {
	var cc countingCheck
	cc.result.Store(&ok)
	var logs syncBuffer
	var h *health.Handler
	app := fxtest.New(t,
		fx.Supply(health.Settings{PublicDetails: true}, zerolog.New(&logs)),
		fx.Provide(health.NewHandler, fx.Annotate(func() health.Check { return cc.check("database") }, fx.ResultTags(`group:"health_checks"`))),
		fx.Populate(&h),
	)
	app.RequireStart()
	defer app.RequireStop()
	e := gin.New()
	h.Register(e)
	startProbes, began := cc.probes.Load(), time.Now()
	for range 1000 {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != 200 {
			t.Fatalf("readyz = %d %s", rec.Code, rec.Body.String())
		}
	}
	// The background's own runs while the probes went on, and one more.
	if n, bg := cc.probes.Load()-startProbes, int64(time.Since(began)/health.RefreshInterval)+1; n > bg {
		t.Errorf("1000 probes ran the check %d times, want at most the background's %d", n, bg)
	}
	cc.result.Store(&down)
	deadline := time.Now().Add(3 * health.RefreshInterval)
	for {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code == 503 && strings.Contains(rec.Body.String(), "database not reachable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d %s %v after the check failed", rec.Code, rec.Body.String(), 3*health.RefreshInterval)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l := logs.String(); !strings.Contains(l, `"level":"warn","component":"health","check":"database","result":"unavailable: database not reachable"`) {
		t.Errorf("the failure is not logged: %s", l)
	}
	// Not ready, the checks run ten times as often: readiness is back
	// within about a tenth of a RefreshInterval (a loaded machine's margin).
	cc.result.Store(&ok)
	back := time.Now()
	for {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code == 200 {
			break
		}
		if time.Since(back) > health.RefreshInterval {
			t.Fatalf("readyz still %d %v after the check recovered", rec.Code, time.Since(back))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer collects the background refresh's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// BenchmarkReadyz answers a healthy /readyz from the last refresh.
func BenchmarkReadyz(b *testing.B) {
	h := health.NewHandler(health.Params{Checks: []health.Check{check("database", ok), check("schema", ok), check("coupons", ok)}})
	e := gin.New()
	h.Register(e)
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	b.ReportAllocs()
	for b.Loop() {
		rec.Body.Reset()
		e.ServeHTTP(rec, req)
	}
}
