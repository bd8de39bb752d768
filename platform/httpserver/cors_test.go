package httpserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/ratelimit"
)

// corsEngine serves GET and PATCH /api/thing for a module that declares
// the headers and methods it uses.
func corsEngine(t *testing.T, c Config) *gin.Engine {
	t.Helper()
	if c.RequestTimeout == 0 {
		c.RequestTimeout = time.Second
	}
	e, err := NewEngine(EngineParams{
		Config:     c,
		Log:        zerolog.New(&bytes.Buffer{}),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			ok := func(c *gin.Context) { c.Header("X-Thing-Version", "1"); c.Status(http.StatusNoContent) }
			r.GET("/thing", ok)
			r.PATCH("/thing", ok)
		})},
		CORS: []CORS{{
			RequestHeaders: []string{"X-Thing-Token"},
			ExposedHeaders: []string{"X-Thing-Version"},
			Methods:        []string{http.MethodGet, http.MethodPatch},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func preflight(e http.Handler, origin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodOptions, "/api/thing", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPatch)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestCORSIsBuiltFromDeclarationsAndConfig(t *testing.T) {
	e := corsEngine(t, Config{CORS: CORSConfig{
		AllowedOrigins: []string{"https://shop.example"},
		AllowedHeaders: []string{"X-Proxy-Tag"},
		ExposedHeaders: []string{"X-Served-By"},
	}})
	rec := preflight(e, "https://shop.example")
	tests := []struct{ header, want string }{
		{"Access-Control-Allow-Origin", "https://shop.example"},
		{"Access-Control-Allow-Methods", "GET, PATCH"},
		{"Access-Control-Allow-Headers", "Content-Type, X-Correlation-ID, X-Proxy-Tag, X-Thing-Token"},
		{"Access-Control-Allow-Credentials", ""},
	}
	for _, tt := range tests {
		if got := rec.Header().Get(tt.header); got != tt.want {
			t.Errorf("preflight %s = %q, want %q", tt.header, got, tt.want)
		}
	}
	if rec.Code != http.StatusNoContent {
		t.Errorf("preflight status = %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
	req.Header.Set("Origin", "https://shop.example")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if got, want := rec.Header().Get("Access-Control-Expose-Headers"), "Retry-After, X-Correlation-ID, X-Served-By, X-Thing-Version"; got != want {
		t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, want)
	}
}

func TestCORSCredentials(t *testing.T) {
	e := corsEngine(t, Config{CORS: CORSConfig{AllowedOrigins: []string{"https://shop.example"}, AllowCredentials: true}})
	for _, method := range []string{http.MethodOptions, http.MethodGet} {
		req := httptest.NewRequest(method, "/api/thing", nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", http.MethodGet)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("%s: Access-Control-Allow-Credentials = %q, want true", method, got)
		}
	}
	if got := preflight(e, "https://evil.example").Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("credentials allowed to a foreign origin: %q", got)
	}
}

func TestPreflightsCountAgainstTheRateLimit(t *testing.T) {
	e := corsEngine(t, Config{
		CORS:      CORSConfig{AllowedOrigins: []string{"https://shop.example"}},
		RateLimit: ratelimit.Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 3},
	})
	for _, origin := range []string{"https://evil.example", "https://shop.example", "https://evil.example"} {
		if rec := preflight(e, origin); rec.Code != http.StatusNoContent {
			t.Fatalf("preflight within the burst from %s = %d", origin, rec.Code)
		}
	}
	for _, origin := range []string{"https://evil.example", "https://shop.example"} {
		rec := preflight(e, origin)
		if rec.Code != http.StatusTooManyRequests || decodeBody(t, rec)["error"] != "RATE_LIMITED" {
			t.Errorf("preflight over the limit from %s = %d %s", origin, rec.Code, rec.Body.String())
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
	req.Header.Set("Origin", "https://shop.example")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Errorf("a limited request from an allowed origin = %d %v: the page cannot read its 429", rec.Code, rec.Header())
	}
}
