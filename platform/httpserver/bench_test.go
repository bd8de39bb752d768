package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/ratelimit"
)

// BenchmarkMiddlewareChain measures what the server's own middleware costs a
// request: the whole chain (correlation id, request log line, metrics,
// security headers, deadline, CORS, per-IP rate limit) around a handler that
// writes a small body, the request log on as in production.
func BenchmarkMiddlewareChain(b *testing.B) {
	body := []byte(`{"id":"1","name":"Waffle with Berries","price":6.5}`)
	e, err := NewEngine(EngineParams{
		Config: Config{
			RequestTimeout: 10 * time.Second,
			MaxHeaderBytes: 16384,
			CORS:           CORSConfig{AllowedOrigins: []string{"https://shop.example"}},
			RateLimit:      ratelimit.Config{Enabled: true, RequestsPerSecond: 1e9, Burst: 1e9},
		},
		Log:        zerolog.New(io.Discard).With().Timestamp().Str("service", "minikart").Logger(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/widget/:widgetId", func(c *gin.Context) { RawJSON(c, http.StatusOK, body) })
		})},
	})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/widget/1", nil)
	req.RemoteAddr = "203.0.113.7:41234"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// counts the server's allocations and not a recorder's.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
