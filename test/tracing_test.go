package test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"minikart/platform/httpserver"
	"minikart/platform/tracing"
	"minikart/test/internal/harness"
)

// callerTrace is the W3C traceparent a caller (nginx, another service)
// sends: its trace id, its span id, sampled.
const (
	callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID  = "00f067aa0ba902b7"
	callerTrace   = "00-" + callerTraceID + "-" + callerSpanID + "-01"
)

// startTracedApp starts the app with tracing as on says, its spans in an
// in-memory exporter instead of the OTLP one, and its info lines in logs.
func startTracedApp(t *testing.T, on bool, logs *harness.SyncBuffer) (*testApp, *tracing.Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	var tr *tracing.Tracing
	a, err := tryStartAppWith(t, map[string]any{"tracing.enabled": on, "log.level": "info"},
		fx.Decorate(func(sdktrace.SpanExporter) sdktrace.SpanExporter { return exp }),
		fx.Decorate(func(l zerolog.Logger) zerolog.Logger { return l.Output(logs) }),
		fx.Populate(&tr))
	if err != nil {
		t.Fatal(err)
	}
	return a, tr, exp
}

// requestLine is the request's one log line, found by its correlation id.
func requestLine(t *testing.T, logs *harness.SyncBuffer, correlationID string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["message"] != "request" || m["correlation_id"] != correlationID {
			continue
		}
		if found != nil {
			t.Fatalf("two request lines for %s", correlationID)
		}
		found = m
	}
	if found == nil {
		t.Fatalf("no request line for %s: %s", correlationID, logs.String())
	}
	return found
}

func attribute(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func TestAnOrdersTrace(t *testing.T) {
	logs := &harness.SyncBuffer{}
	a, tr, exp := startTracedApp(t, true, logs)
	res := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2}]}`, "traceparent", callerTrace)
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	correlation := res.header.Get(httpserver.CorrelationHeader)
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	byID := map[trace.SpanID]tracetest.SpanStub{}
	var server, place, lookup tracetest.SpanStub
	var statements []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() != callerTraceID {
			continue // the app's own work outside the request
		}
		byID[s.SpanContext.SpanID()] = s
		switch {
		case s.Name == "POST /api/order":
			server = s
		case s.Name == "ordering.place":
			place = s
		case s.Name == "promo.lookup":
			lookup = s
		case attribute(s, "db.system.name") == "postgresql":
			statements = append(statements, s)
		}
	}
	t.Run("the request's span continues the caller's trace", func(t *testing.T) {
		if !server.SpanContext.IsValid() || server.Parent.SpanID().String() != callerSpanID {
			t.Fatalf("server span %q with parent %s, want POST /api/order under the caller's %s", server.Name, server.Parent.SpanID(), callerSpanID)
		}
		if attribute(server, "http.route") != "/api/order" {
			t.Errorf("http.route %q", attribute(server, "http.route"))
		}
	})
	t.Run("the placement is the request's child, the coupon lookup the placement's", func(t *testing.T) {
		if place.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("ordering.place's parent %s, want the request's %s", place.Parent.SpanID(), server.SpanContext.SpanID())
		}
		if lookup.Parent.SpanID() != place.SpanContext.SpanID() {
			t.Errorf("promo.lookup's parent %s, want ordering.place %s", lookup.Parent.SpanID(), place.SpanContext.SpanID())
		}
		if attribute(lookup, "promo.outcome") != "valid" {
			t.Errorf("promo.outcome %q", attribute(lookup, "promo.outcome"))
		}
	})
	t.Run("each SQL statement of the placement has a span under it", func(t *testing.T) {
		if len(statements) == 0 {
			t.Fatal("no SQL span in the order's trace")
		}
		for _, s := range statements {
			under := false
			for p := s.Parent; p.IsValid() && !under; p = byID[p.SpanID()].Parent {
				under = p.SpanID() == place.SpanContext.SpanID()
			}
			if !under || attribute(s, "db.query.text") == "" {
				t.Errorf("statement span %q (text %q) is not under ordering.place", s.Name, attribute(s, "db.query.text"))
			}
		}
	})
	t.Run("every span of the request carries its correlation id", func(t *testing.T) {
		for _, s := range byID {
			if got := attribute(s, "correlation_id"); got != correlation {
				t.Errorf("%s: correlation_id %q, want %q", s.Name, got, correlation)
			}
		}
	})
	t.Run("the request's log line carries the caller's trace id and the request's span id", func(t *testing.T) {
		l := requestLine(t, logs, correlation)
		if l["trace_id"] != callerTraceID || l["span_id"] != server.SpanContext.SpanID().String() {
			t.Errorf("trace_id %v span_id %v, want %s and %s", l["trace_id"], l["span_id"], callerTraceID, server.SpanContext.SpanID())
		}
	})
	t.Run("the answer's traceparent names the request's span", func(t *testing.T) {
		want := "00-" + callerTraceID + "-" + server.SpanContext.SpanID().String() + "-01"
		if got := res.header.Get("traceparent"); got != want {
			t.Errorf("traceparent %q, want %q", got, want)
		}
	})
}

func TestTracingOffRecordsAndLogsNoTrace(t *testing.T) {
	logs := &harness.SyncBuffer{}
	a, tr, exp := startTracedApp(t, false, logs)
	res := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2}]}`, "traceparent", callerTrace)
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("%d spans with tracing off", n)
	}
	l := requestLine(t, logs, res.header.Get(httpserver.CorrelationHeader))
	if _, ok := l["trace_id"]; ok {
		t.Errorf("trace_id in the request line with tracing off: %v", l)
	}
	if res.header.Get("traceparent") != "" {
		t.Error("traceparent in the answer with tracing off")
	}
	if res := a.do(http.MethodGet, "/metrics", ""); strings.Contains(string(res.body), "tracing_spans_total") {
		t.Error("tracing metrics registered with tracing off")
	}
}
