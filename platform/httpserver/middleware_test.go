package httpserver

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"minikart/platform/health"
	"minikart/platform/ratelimit"
)

func TestRecoveryTurnsAPanicIntoJSON(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.New(&logs),
		Registerer: reg,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/panic", func(*gin.Context) { panic("nil map write") })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/panic", nil))

	t.Run("the client gets a 500 INTERNAL_ERROR", func(t *testing.T) {
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", rec.Code)
		}
		if decodeBody(t, rec)["error"] != "INTERNAL_ERROR" || strings.Contains(rec.Body.String(), "nil map") {
			t.Errorf("body = %s", rec.Body.String())
		}
	})
	t.Run("the panic is logged with the correlation id", func(t *testing.T) {
		id := rec.Header().Get(CorrelationHeader)
		if !strings.Contains(logs.String(), `"panic":"nil map write"`) || !strings.Contains(logs.String(), id) {
			t.Errorf("panic not logged with %s: %s", id, logs.String())
		}
	})
	t.Run("the panic is logged once", func(t *testing.T) {
		if strings.Count(logs.String(), `"level":"error"`) != 2 || strings.Contains(logs.String(), "request failed") {
			t.Errorf("want the panic line and the request line only: %s", logs.String())
		}
	})
	t.Run("the request is logged with its status", func(t *testing.T) {
		if !strings.Contains(logs.String(), `"route":"/api/panic","status":500`) {
			t.Errorf("no request line with status 500: %s", logs.String())
		}
	})
	t.Run("the request is counted", func(t *testing.T) {
		want := `
# HELP http_requests_total HTTP requests by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/panic",status="500"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
			t.Error(err)
		}
	})
}

func TestCorrelationID(t *testing.T) {
	const valid = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
	tests := []struct {
		name     string
		incoming string
		honoured string // empty when a new id must replace the incoming one
	}{
		{"a valid id is honoured", valid, valid},
		{"an upper-case id is honoured in canonical form", strings.ToUpper(valid), valid},
		{"no id gets a new one", "", ""},
		{"garbage is replaced", "hello; drop table", ""},
		{"a urn form is replaced", "urn:uuid:" + valid, ""},
		{"a braced form is replaced", "{" + valid + "}", ""},
		{"a 32-digit form is replaced", strings.ReplaceAll(valid, "-", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, &bytes.Buffer{}, func(gin.IRouter) {})
			req := httptest.NewRequest(http.MethodGet, "/api/missing", nil)
			if tt.incoming != "" {
				req.Header.Set(CorrelationHeader, tt.incoming)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			got := rec.Header().Get(CorrelationHeader)
			if body := decodeBody(t, rec); body["correlation_id"] != got {
				t.Errorf("body correlation_id %v, header %q", body["correlation_id"], got)
			}
			if tt.honoured != "" {
				if got != tt.honoured {
					t.Errorf("correlation id = %q, want %q", got, tt.honoured)
				}
				return
			}
			if _, err := uuid.Parse(got); err != nil || len(got) != 36 || got == tt.incoming {
				t.Errorf("correlation id = %q, want a fresh UUID", got)
			}
		})
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		status int
		code   string
	}{
		{"an unknown path", http.MethodGet, "/api/nothing-here", http.StatusNotFound, "NOT_FOUND"},
		{"a path outside /api", http.MethodGet, "/ok", http.StatusNotFound, "NOT_FOUND"},
		{"a trailing slash is not redirected", http.MethodGet, "/api/ok/", http.StatusNotFound, "NOT_FOUND"},
		{"a wrong method", http.MethodDelete, "/api/ok", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, &bytes.Buffer{}, func(r gin.IRouter) {
				r.GET("/ok", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
			})
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := decodeBody(t, rec)["error"]; got != tt.code {
				t.Errorf("code = %v, want %s", got, tt.code)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newTestEngine(t, &bytes.Buffer{}, func(r gin.IRouter) {
		r.GET("/ok", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	})
	for _, path := range []string{"/api/ok", "/api/missing"} {
		t.Run("on "+path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
}

func TestDeadlineAnswers504(t *testing.T) {
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Millisecond},
		Log:        zerolog.Nop(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/slow", func(c *gin.Context) {
				<-c.Request.Context().Done()
				_ = c.Error(c.Request.Context().Err())
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/slow", nil))
	if rec.Code != http.StatusGatewayTimeout || decodeBody(t, rec)["error"] != "TIMEOUT" {
		t.Errorf("status %d, body %s", rec.Code, rec.Body.String())
	}
}

func TestMetricsUseTheRouteTemplate(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.Nop(),
		Registerer: reg,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/item/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/item/1", "/api/item/2", "/api/nope"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil).WithContext(context.Background()))
	}
	want := `
# HELP http_requests_total HTTP requests by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/item/:id",status="204"} 2
http_requests_total{method="GET",route="unmatched",status="404"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestOddMethodsAddNoSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.Nop(),
		Registerer: reg,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/item/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		method := make([]byte, 201)
		for j := range method {
			method[j] = byte('A' + rng.IntN(26))
		}
		path := "/api/item/" + strconv.Itoa(i)
		if i%2 == 1 {
			path = "/api/" + string(method)
		}
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(string(method), path, nil))
	}
	want := `
# HELP http_requests_total HTTP requests by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="OTHER",route="unmatched",status="404"} 25
http_requests_total{method="OTHER",route="unmatched",status="405"} 25
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "http_request_duration_seconds"); err != nil || n != 1 {
		t.Errorf("duration series = %d (%v), want 1", n, err)
	}
}

// TestRequestLogsCarryTheCorrelationID checks that the request's log line
// and a handler's own line (through zerolog.Ctx) both carry the request's
// correlation id, the access line with the id where a logger made for the
// request would put it: right after the server logger's own fields.
func TestRequestLogsCarryTheCorrelationID(t *testing.T) {
	var logs bytes.Buffer
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.New(&logs).With().Str("service", "minikart").Logger(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/inside", func(c *gin.Context) {
				zerolog.Ctx(c.Request.Context()).Info().Msg("inside")
				c.Status(http.StatusNoContent)
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	req := httptest.NewRequest(http.MethodGet, "/api/inside", nil)
	req.Header.Set("X-Correlation-ID", id)
	e.ServeHTTP(httptest.NewRecorder(), req)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want the handler's and the request's:\n%s", len(lines), logs.String())
	}
	if want := `{"level":"info","service":"minikart","correlation_id":"` + id + `","message":"inside"}`; lines[0] != want {
		t.Errorf("handler line\n%s\nwant\n%s", lines[0], want)
	}
	if want := `{"level":"info","service":"minikart","correlation_id":"` + id + `","method":"GET"`; !strings.HasPrefix(lines[1], want) {
		t.Errorf("request line\n%s\nwant it to start with\n%s", lines[1], want)
	}
}

// TestRequestLoggerIsMadeOnlyWhenAsked checks that a request whose handler
// does not log costs no logger of its own: fewer allocations than one that
// asks for it.
func TestRequestLoggerIsMadeOnlyWhenAsked(t *testing.T) {
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.New(io.Discard).With().Str("service", "minikart").Logger(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/quiet", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			r.GET("/loud", func(c *gin.Context) {
				zerolog.Ctx(c.Request.Context()).Info().Msg("inside")
				c.Status(http.StatusNoContent)
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(path string) float64 {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			e.ServeHTTP(w, req)
		})
	}
	if quiet, loud := allocs("/api/quiet"), allocs("/api/loud"); quiet >= loud {
		t.Errorf("%v allocations without a handler's log line, %v with one: want fewer", quiet, loud)
	}
}

// TestProbesAreNeverRateLimited probes, over real HTTP from one address,
// far past the per-IP burst: every probe is answered 200, while an API
// route from the same address is limited.
func TestProbesAreNeverRateLimited(t *testing.T) {
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: 5 * time.Second, RateLimit: ratelimit.Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 2}},
		Log:        zerolog.Nop(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/widget", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		})},
		RootRoutes: []Routes{health.NewHandler(health.Params{})},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(path string) int {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for i := range 100 {
		for _, p := range []string{health.LivePath, health.ReadyPath, health.HealthPath} {
			if s := get(p); s != http.StatusOK {
				t.Fatalf("probe %d of %s = %d, want 200", i, p, s)
			}
		}
	}
	statuses := []int{get("/api/widget"), get("/api/widget"), get("/api/widget")}
	if statuses[2] != http.StatusTooManyRequests {
		t.Errorf("API route past the burst = %v, want the third limited", statuses)
	}
}
