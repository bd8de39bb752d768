package httpserver

import (
	"context"
	"crypto/rand"
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
	"minikart/platform/log"
	"minikart/platform/metrics"
	"minikart/platform/tracing"
)

// CorrelationHeader carries the id that ties a request to its log lines.
const CorrelationHeader = "X-Correlation-ID"

// Header names as net/http keys them, for the headers set on every answer
// straight into the header map: the shared one-value slices below then cost
// no allocation per request (nobody writes into a header value slice, and
// Add appends past their capacity).
const (
	correlationKey = "X-Correlation-Id"
	nosniffKey     = "X-Content-Type-Options"
	cacheKey       = "Cache-Control"
	etagKey        = "Etag"
	contentTypeKey = "Content-Type"
	lengthKey      = "Content-Length"
)

var (
	nosniff         = []string{"nosniff"}[:1:1]
	noStore         = []string{"no-store"}[:1:1]
	jsonContentType = []string{"application/json; charset=utf-8"}[:1:1]
)

// CorrelationID returns the request's correlation id.
func CorrelationID(c *gin.Context) string {
	if rs, ok := scopeOf(c); ok {
		return rs.id
	}
	return ""
}

// scopeOf returns the request's scope, which scope put in its context.
func scopeOf(c *gin.Context) (*requestScope, bool) {
	rs, ok := c.Request.Context().Value(scopeKey{}).(*requestScope)
	return rs, ok
}

// recovery turns a panic into a logged INTERNAL_ERROR answer. The panic is
// logged here, once, with its stack.
func recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			zerolog.Ctx(c.Request.Context()).Error().
				Str("panic", log.Clip(fmt.Sprint(r))).Bytes("stack", debug.Stack()).Msg("handler panicked")
			if !c.Writer.Written() {
				respond(c, apperr.ErrInternal)
			}
		}
	}()
	c.Next()
}

type scopeKey struct{}

// requestScope is the context node the outermost middleware adds to every
// request: the request's deadline (lazyDeadline, on the request's own
// context), and the correlation id and the request's origin, answered by
// Value, in one allocation (rather than a deadline context, a context
// value, a gin key and a header slice each).
type requestScope struct {
	lazyDeadline
	uuid    uuid.UUID
	id      string
	header  [1]string
	req     *http.Request
	origins *originResolver
	// clientIP is gin's ClientIP, worked out once for the rate limit and
	// the log line (each call allocates).
	clientIP string
	// base is the server's logger; log, made from it when first asked for
	// (zerolog.Ctx), carries the correlation id, and the trace and span ids
	// when traced. The request's own log line adds them itself, so most
	// requests never make one.
	base *zerolog.Logger
	log  *zerolog.Logger
	// traced is set when tracing is on: the request runs in a span.
	traced bool
}

// correlationField names the correlation id in log lines.
const correlationField = "correlation_id"

// logger returns the request's logger, which carries its correlation id,
// and its trace's ids when traced.
func (rs *requestScope) logger() *zerolog.Logger {
	if rs.log == nil {
		c := rs.base.With().Str(correlationField, rs.id)
		if rs.traced {
			c = tracing.WithLogIDs(rs.lazyDeadline.Context, c)
		}
		l := c.Logger()
		rs.log = &l
	}
	return rs.log
}

// zerologKey is the key zerolog.Ctx looks a context's logger up by, caught
// by asking a context that records it: requestScope answers it with the
// request's logger, made only then.
var zerologKey = func() any {
	p := &keyProbe{Context: context.Background()}
	zerolog.Ctx(p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// clientIP returns the request's client IP as gin tells it (forwarded
// headers believed only from trusted proxies), computed once per request.
func clientIP(c *gin.Context) string {
	rs, ok := scopeOf(c)
	if !ok {
		return c.ClientIP()
	}
	if rs.clientIP == "" {
		rs.clientIP = c.ClientIP()
	}
	return rs.clientIP
}

// Value answers the scope itself and the origin (worked out only when a
// handler asks), and defers every other key to the parent.
func (rs *requestScope) Value(key any) any {
	switch key.(type) {
	case scopeKey:
		return rs
	case originKey:
		return rs.origins.of(rs.req)
	case tracing.CorrelationKey:
		return rs.id
	}
	if key == zerologKey {
		return rs.logger()
	}
	return rs.Context.Value(key)
}

// scope opens every request: it honours a valid incoming X-Correlation-ID
// (a UUID) or makes a new one, echoes it, answers zerolog.Ctx with a logger
// carrying it (made only if asked for) and the request's origin, and bounds
// the request's work by timeout: stores and services see the deadline
// through the context and give up, and the answer is a JSON 504. The
// request is copied once for all of it. traced says the request runs in a
// span (tracing is on).
func scope(base zerolog.Logger, origins *originResolver, timeout time.Duration, traced bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		rs := &requestScope{req: c.Request, origins: origins, base: &base, traced: traced}
		rs.set(c.Request.Context(), timeout)
		defer rs.release()
		var in string
		if v := c.Request.Header[correlationKey]; len(v) > 0 {
			in = v[0]
		}
		if parsed, err := uuid.Parse(in); err == nil && len(in) == 36 {
			rs.uuid = parsed
		} else {
			rs.uuid = newUUID()
		}
		rs.id = rs.uuid.String()
		rs.header[0] = rs.id
		c.Writer.Header()[correlationKey] = rs.header[:]
		c.Request = c.Request.WithContext(rs)
		c.Next()
	}
}

// newUUID is a random (version 4) UUID, read straight into its array.
func newUUID() uuid.UUID {
	var u uuid.UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// observe writes one log line and records the metrics of every request.
// A client that hung up is logged at info with 499, like any answer below
// 500. What the client chose (method, path) is clipped: a 64 KiB path must
// not become a 64 KiB log line.
func (m *httpMetrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	status := c.Writer.Status()
	route := c.FullPath()
	// The scope's base logger with the id as the first field writes what
	// the request's logger would, without making one.
	var l *zerolog.Logger
	id, traced := "", false
	if rs, ok := scopeOf(c); ok {
		l, id, traced = rs.base, rs.id, rs.traced
	} else {
		l = zerolog.Ctx(c.Request.Context())
	}
	method := methodLabel(c.Request.Method)
	ev := l.Info()
	if status >= 500 {
		ev = l.Error()
	}
	if id != "" {
		ev = ev.Str(correlationField, id)
	}
	if traced {
		ctx := c.Request.Context()
		tracing.NameRequest(ctx, method, route, id)
		ev = tracing.LogIDs(ctx, ev)
	}
	ev.Str("method", log.Clip(c.Request.Method)).
		Str("path", log.Clip(c.Request.URL.Path)).
		Str("route", route).
		Int("status", status).
		Float64("duration_ms", float64(elapsed.Microseconds())/1000).
		Int("bytes", c.Writer.Size()).
		Str("client_ip", clientIP(c)).
		Msg("request")
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
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

func statusLabel(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return statusLabels[s]
}

// statusLabels spells every status once, so labelling costs nothing.
var statusLabels = func() (t [600]string) {
	for s := 100; s < len(t); s++ {
		t[s] = strconv.Itoa(s)
	}
	return t
}()

// securityHeaders are sent on every response.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h[nosniffKey] = nosniff
	h[cacheKey] = noStore
	c.Next()
}
