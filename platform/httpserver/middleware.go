package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/apperr"
	"minikart/platform/metrics"
)

// CorrelationHeader carries the id that ties a request to its log lines.
const CorrelationHeader = "X-Correlation-ID"

const correlationKey = "correlation_id"

// CorrelationID returns the request's correlation id.
func CorrelationID(c *gin.Context) string { return c.GetString(correlationKey) }

// recovery turns a panic into a logged INTERNAL_ERROR answer. The panic is
// logged here, once, with its stack.
func recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			zerolog.Ctx(c.Request.Context()).Error().
				Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("handler panicked")
			if !c.Writer.Written() {
				respond(c, apperr.ErrInternal)
			}
		}
	}()
	c.Next()
}

// correlation honours a valid incoming X-Correlation-ID (a UUID) or makes a
// new one, echoes it, and puts a logger carrying it in the request context.
func correlation(base zerolog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(CorrelationHeader)
		if parsed, err := uuid.Parse(id); err == nil && len(id) == 36 {
			id = parsed.String()
		} else {
			id = uuid.NewString()
		}
		c.Set(correlationKey, id)
		c.Header(CorrelationHeader, id)
		l := base.With().Str("correlation_id", id).Logger()
		c.Request = c.Request.WithContext(l.WithContext(c.Request.Context()))
		c.Next()
	}
}

// requestLog writes one line per request.
func requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	l := zerolog.Ctx(c.Request.Context())
	ev := l.Info()
	if status >= 500 {
		ev = l.Error()
	}
	route := c.FullPath()
	ev.Str("method", c.Request.Method).
		Str("path", c.Request.URL.Path).
		Str("route", route).
		Int("status", status).
		Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).
		Int("bytes", c.Writer.Size()).
		Str("client_ip", c.ClientIP()).
		Msg("request")
}

// httpMetrics records request counts and latency by route template, so ids
// in paths never explode the label space.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	return m, metrics.Register(reg, "http", m.requests, m.duration)
}

func (m *httpMetrics) handler(c *gin.Context) {
	start := time.Now()
	c.Next()
	method, route := methodLabel(c.Request.Method), routeLabel(c)
	m.requests.WithLabelValues(method, route, statusLabel(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
}

// Every label value comes from a closed set, so no request, however odd,
// adds a series: a method outside the standard ones is OTHER, a path no
// route matched is "unmatched", a status outside 100-599 is "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

func statusLabel(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return strconv.Itoa(s)
}

// deadline bounds each request's work: stores and services see the deadline
// through the context and give up, and the answer is a JSON 504.
func deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// securityHeaders are sent on every response.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.Next()
}
