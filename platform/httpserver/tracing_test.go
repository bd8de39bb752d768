package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/fx/fxtest"

	"minikart/platform/tracing"
)

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// tracedServer is the server's handler, as NewServer builds it, over an
// engine whose handler logs one line through the request's logger; its
// log lines are in logs.
func tracedServer(t *testing.T, on bool, exp sdktrace.SpanExporter, logs *bytes.Buffer) (http.Handler, *tracing.Tracing) {
	t.Helper()
	lc := fxtest.NewLifecycle(t)
	tr, err := tracing.New(lc, tracing.Config{Enabled: on, FlushTimeout: time.Second}, exp, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.New(logs),
		Registerer: prometheus.NewRegistry(),
		Tracing:    tr,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/widget/:id", func(c *gin.Context) {
				zerolog.Ctx(c.Request.Context()).Info().Msg("inside")
				c.Status(http.StatusNoContent)
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Handler(headAsGet(e)), tr
}

// logLines decodes each JSON log line, by message.
func logLines(t *testing.T, logs *bytes.Buffer) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out[m["message"].(string)] = m
	}
	return out
}

func TestTracedRequestsLogTheirTrace(t *testing.T) {
	var logs bytes.Buffer
	exp := tracetest.NewInMemoryExporter()
	h, tr := tracedServer(t, true, exp, &logs)
	req := httptest.NewRequest(http.MethodGet, "/api/widget/7", nil)
	req.Header.Set("traceparent", traceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the request's", len(spans))
	}
	server := spans[0]
	lines := logLines(t, &logs)
	if len(lines) != 2 {
		t.Fatalf("want the handler's line and one request line: %s", logs.String())
	}
	for _, msg := range []string{"request", "inside"} {
		t.Run("the "+msg+" line carries the caller's trace id and the server span's id", func(t *testing.T) {
			l := lines[msg]
			if l["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || l["span_id"] != server.SpanContext.SpanID().String() {
				t.Errorf("trace_id %v span_id %v, want the caller's trace and span %s", l["trace_id"], l["span_id"], server.SpanContext.SpanID())
			}
			if l["correlation_id"] != rec.Header().Get(CorrelationHeader) {
				t.Errorf("correlation_id %v", l["correlation_id"])
			}
		})
	}
	t.Run("the span is named by route and carries the correlation id", func(t *testing.T) {
		if server.Name != "GET /api/widget/:id" {
			t.Errorf("span name %q", server.Name)
		}
		found := false
		for _, kv := range server.Attributes {
			found = found || (kv.Key == "correlation_id" && kv.Value.AsString() == rec.Header().Get(CorrelationHeader))
		}
		if !found {
			t.Errorf("no correlation_id attribute: %v", server.Attributes)
		}
	})
	t.Run("the answer carries the server span's traceparent", func(t *testing.T) {
		want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + server.SpanContext.SpanID().String() + "-01"
		if got := rec.Header().Get("traceparent"); got != want {
			t.Errorf("traceparent %q, want %q", got, want)
		}
	})
}

func TestUntracedRequestsLogNoTrace(t *testing.T) {
	var logs bytes.Buffer
	h, _ := tracedServer(t, false, nil, &logs)
	req := httptest.NewRequest(http.MethodGet, "/api/widget/7", nil)
	req.Header.Set("traceparent", traceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(logs.String(), "trace_id") || strings.Contains(logs.String(), "span_id") {
		t.Errorf("trace fields with tracing off: %s", logs.String())
	}
	if rec.Header().Get("traceparent") != "" {
		t.Error("a traceparent answer with tracing off")
	}
	if len(logLines(t, &logs)) != 2 {
		t.Errorf("want two lines: %s", logs.String())
	}
}

func TestTracedCORSLetsBrowsersSendAndReadTraceparent(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	tr, err := tracing.New(lc, tracing.Config{Enabled: true, FlushTimeout: time.Second}, tracetest.NewInMemoryExporter(), prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second, CORS: CORSConfig{AllowedOrigins: []string{"https://shop.example"}}},
		Log:        zerolog.Nop(),
		Registerer: prometheus.NewRegistry(),
		Tracing:    tr,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/widget", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/widget", nil)
	req.Header.Set("Origin", "https://shop.example")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if got := rec.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(strings.ToLower(got), "traceparent") {
		t.Errorf("Access-Control-Expose-Headers %q lacks traceparent", got)
	}
}
