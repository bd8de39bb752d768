package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx/fxtest"
)

// on is the tracing section with tracing on.
var on = Config{Enabled: true, FlushTimeout: time.Second}

// newOn returns tracing on, exporting to exp, its metrics in reg.
func newOn(t *testing.T, exp sdktrace.SpanExporter, reg *prometheus.Registry) *Tracing {
	t.Helper()
	lc := fxtest.NewLifecycle(t)
	tr, err := New(lc, on, exp, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	return tr
}

// spans flushes tr and returns what exp holds, by name.
func spans(t *testing.T, tr *Tracing, exp *tracetest.InMemoryExporter) map[string]tracetest.SpanStub {
	t.Helper()
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		out[s.Name] = s
	}
	return out
}

func attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestHandlerContinuesTheCallersTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	var inside trace.SpanContext
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/product/7", nil)
	req.Header.Set("traceparent", incoming)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	got := spans(t, tr, exp)
	server, ok := got["GET"]
	if !ok {
		t.Fatalf("no server span named GET: %v", got)
	}
	t.Run("the server span continues the caller's trace", func(t *testing.T) {
		if id := server.SpanContext.TraceID().String(); id != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("trace id %s, want the caller's", id)
		}
		if p := server.Parent.SpanID().String(); p != "00f067aa0ba902b7" || !server.Parent.IsRemote() {
			t.Errorf("parent %s (remote %v), want the caller's span", p, server.Parent.IsRemote())
		}
		if inside.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("the handler ran in span %s, want the server span %s", inside.SpanID(), server.SpanContext.SpanID())
		}
	})
	t.Run("the answer names the server span in its traceparent", func(t *testing.T) {
		want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + server.SpanContext.SpanID().String() + "-01"
		if h := rec.Header().Get("traceparent"); h != want {
			t.Errorf("traceparent %q, want %q", h, want)
		}
	})
}

func TestHandlerStartsATraceWithoutTraceparent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/order", nil))
	s := spans(t, tr, exp)["POST"]
	if !s.SpanContext.IsValid() || s.Parent.IsValid() {
		t.Fatalf("want a root server span, got %+v", s)
	}
	if !strings.Contains(rec.Header().Get("traceparent"), s.SpanContext.TraceID().String()) {
		t.Errorf("traceparent %q does not name trace %s", rec.Header().Get("traceparent"), s.SpanContext.TraceID())
	}
}

func TestNameRequestNamesBySpanRouteAndCorrelationID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := ""
		if r.URL.Path == "/api/product/7" {
			route = "/api/product/:id"
		}
		NameRequest(r.Context(), r.Method, route, "corr-"+r.URL.Path)
	}))
	for _, p := range []string{"/api/product/7", "/no/such/path/1", "/no/such/path/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	got := spans(t, tr, exp)
	if len(got) != 2 {
		t.Fatalf("span names %v: want one per route and one for every unmatched path", got)
	}
	s, ok := got["GET /api/product/:id"]
	if !ok {
		t.Fatalf("no span named by the route template: %v", got)
	}
	if v, _ := attr(s, semconv.HTTPRouteKey); v.AsString() != "/api/product/:id" {
		t.Errorf("http.route = %q", v.AsString())
	}
	if v, _ := attr(s, correlationAttribute); v.AsString() != "corr-/api/product/7" {
		t.Errorf("correlation_id = %q", v.AsString())
	}
}

func TestSpansWithinARequestCarryItsCorrelationID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	tracer := tr.TracerProvider().Tracer("test")
	ctx, root := tracer.Start(context.Background(), "request")
	ctx = context.WithValue(ctx, CorrelationKey{}, "c0ffee")
	_, child := Child(ctx, tracer, "promo.lookup")
	child.End()
	root.End()
	s := spans(t, tr, exp)["promo.lookup"]
	if s.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("parent %s, want the request's span %s", s.Parent.SpanID(), root.SpanContext().SpanID())
	}
	if v, _ := attr(s, correlationAttribute); v.AsString() != "c0ffee" {
		t.Errorf("correlation_id = %q, want c0ffee", v.AsString())
	}
}

func TestChildStartsNoSpanOutsideARecordedOne(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	ctx := context.Background()
	got, span := Child(ctx, tr.TracerProvider().Tracer("test"), "promo.lookup")
	span.End()
	if got != ctx || span.IsRecording() {
		t.Error("Child started a span with no recorded parent")
	}
	if n := len(spans(t, tr, exp)); n != 0 {
		t.Errorf("%d spans exported, want none", n)
	}
}

func TestOffRecordsNothingAndWrapsNothing(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	reg := prometheus.NewRegistry()
	tr, err := New(lc, Config{FlushTimeout: time.Second}, nil, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.NewServeMux() // comparable, unlike a HandlerFunc
	if tr.Enabled() || tr.QueryTracer() != nil {
		t.Error("tracing off reports itself on, or gives pgx a tracer")
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("traceparent", incoming)
	tr.Handler(h).ServeHTTP(rec, req)
	if rec.Header().Get("traceparent") != "" {
		t.Error("an answer carries a traceparent with tracing off")
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "x")
	if span.IsRecording() {
		t.Error("a span records with tracing off")
	}
	if n, _ := testutil.GatherAndCount(reg); n != 0 {
		t.Errorf("%d metrics registered with tracing off", n)
	}
	if exp, err := newExporter(Config{}); exp != nil || err != nil {
		t.Errorf("an exporter (%v, %v) is made with tracing off", exp, err)
	}
	var nilTracing *Tracing
	if nilTracing.Enabled() || nilTracing.Handler(h) != h {
		t.Error("a nil *Tracing is not off")
	}
}

func TestSamplerComesFromTheVariables(t *testing.T) {
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0")
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	var logged trace.SpanContext
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logged = trace.SpanContextFromContext(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if n := len(spans(t, tr, exp)); n != 0 {
		t.Errorf("ratio 0 exported %d spans", n)
	}
	if !logged.IsValid() || logged.IsSampled() {
		t.Errorf("an unsampled request still has a trace id for its log lines: %v", logged)
	}
	// The caller's decision wins under parentbased_*.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("traceparent", incoming)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(spans(t, tr, exp)); n != 1 {
		t.Errorf("a sampled caller's request exported %d spans, want 1", n)
	}
}

func TestResourceNamesTheService(t *testing.T) {
	tests := []struct {
		name, env, want string
	}{
		{"by default", "", "minikart"},
		{"as OTEL_SERVICE_NAME says", "kart-eu", "kart-eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", tt.env)
			exp := tracetest.NewInMemoryExporter()
			tr := newOn(t, exp, prometheus.NewRegistry())
			_, s := tr.TracerProvider().Tracer("test").Start(context.Background(), "x")
			s.End()
			got, _ := spans(t, tr, exp)["x"].Resource.Set().Value(semconv.ServiceNameKey)
			if got.AsString() != tt.want {
				t.Errorf("service.name %q, want %q", got.AsString(), tt.want)
			}
		})
	}
}

func TestAttributeValuesAreBounded(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newOn(t, exp, prometheus.NewRegistry())
	h := tr.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/"+strings.Repeat("a", 8000), nil))
	for _, kv := range spans(t, tr, exp)["GET"].Attributes {
		if n := len(kv.Value.Emit()); n > maxAttributeValue {
			t.Errorf("%s has %d bytes, want at most %d", kv.Key, n, maxAttributeValue)
		}
	}
}

func TestCheckRefusesAnotherProtocol(t *testing.T) {
	tests := []struct {
		name, value string
		on, ok      bool
	}{
		{"unset", "", true, true},
		{"http/protobuf", "http/protobuf", true, true},
		{"grpc", "grpc", true, false},
		{"grpc with tracing off", "grpc", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tt.value)
			err := Config{Enabled: tt.on, FlushTimeout: time.Second}.Check("test")
			if (err == nil) != tt.ok {
				t.Errorf("Check = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") {
				t.Errorf("error %q does not name the variable", err)
			}
		})
	}
}

// stuck is an exporter whose sends wait until released, as a collector
// that accepts connections and never answers.
type stuck struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
}

func (s *stuck) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	s.got += len(spans)
	s.mu.Unlock()
	return nil
}

func (*stuck) Shutdown(context.Context) error { return nil }

func TestAFullQueueDropsAndCountsInsteadOfWaiting(t *testing.T) {
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4")
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
	exp := &stuck{release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	tr := newOn(t, exp, reg)
	tracer := tr.TracerProvider().Tracer("test")
	const n = 50
	// With the exporter stuck, ending spans must not wait for it: the
	// test would hang here otherwise.
	for range n {
		_, s := tracer.Start(context.Background(), "x")
		s.End()
	}
	dropped := value(t, reg, "tracing_spans_total", "dropped")
	// At most the queue's 4 and the batch in the exporter's hands (2) get
	// through while it is stuck.
	if dropped < n-6 {
		t.Errorf("%v spans dropped, want at least %d", dropped, n-6)
	}
	close(exp.release)
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exp.mu.Lock()
	got := exp.got
	exp.mu.Unlock()
	exported := value(t, reg, "tracing_spans_total", "exported")
	if float64(got) != exported || exported+dropped != n {
		t.Errorf("exporter got %d, counted exported %v, dropped %v: want exported + dropped = %d", got, exported, dropped, n)
	}
	if q := value(t, reg, "tracing_spans_queued", ""); q != 0 {
		t.Errorf("tracing_spans_queued = %v after the flush, want 0", q)
	}
}

// value is the value of the metric name in reg, of its series whose only
// label is outcome (any series when outcome is empty); 0 when absent.
func value(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if outcome != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != outcome) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func TestStopGivesUpOnAStuckCollectorAfterFlushTimeout(t *testing.T) {
	exp := &stuck{release: make(chan struct{})}
	defer close(exp.release)
	lc := fxtest.NewLifecycle(t)
	tr, err := New(lc, Config{Enabled: true, FlushTimeout: 50 * time.Millisecond}, exp, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	_, s := tr.TracerProvider().Tracer("test").Start(context.Background(), "x")
	s.End()
	// The stop's own deadline is far off: the flush timeout ends the wait,
	// and a collector that is down does not fail the stop.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := lc.Stop(ctx); err != nil {
		t.Errorf("stop = %v, want nil", err)
	}
	if ctx.Err() != nil {
		t.Error("the stop waited out its own deadline")
	}
}

// hangingCollector accepts connections and never answers until the test
// ends: the worst a collector can do to the server.
func hangingCollector(t testing.TB) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return srv.URL
}

func TestARequestNeverWaitsForACollectorThatDoesNotAnswer(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", hangingCollector(t))
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "8")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "1")
	exp, err := newExporter(on)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	tr := newOn(t, exp, reg)
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	const n = 200
	// Each request ends its span while the exporter waits on the
	// collector: were ending a span to wait for room, this loop would
	// hang until the exporter's timeout, once per request past the queue.
	for range n {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusNoContent {
			t.Fatalf("status %d", rec.Code)
		}
	}
	// The exporter holds one batch (at most the queue's size) and the
	// queue holds the next: the rest are dropped, and counted.
	if d := value(t, reg, "tracing_spans_total", "dropped"); d < n-16 {
		t.Errorf("%v spans counted dropped, want at least %d", d, n-16)
	}
}

// BenchmarkRequest measures a request's cost through the tracing handler:
// off, on with spans exported to a collector that answers at once, and on
// with a collector that never answers (the request must cost no more).
func BenchmarkRequest(b *testing.B) {
	answering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer answering.Close()
	for _, bb := range []struct {
		name, collector string
		on              bool
	}{
		{"off", "", false},
		{"on", answering.URL, true},
		{"on_collector_hanging", hangingCollector(b), true},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", bb.collector)
			c := Config{Enabled: bb.on, FlushTimeout: 100 * time.Millisecond}
			exp, err := newExporter(c)
			if err != nil {
				b.Fatal(err)
			}
			lc := fxtest.NewLifecycle(b)
			tr, err := New(lc, c, exp, prometheus.NewRegistry(), zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			lc.RequireStart()
			defer lc.RequireStop()
			h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				NameRequest(r.Context(), r.Method, "/api/product/:id", "c0ffee")
				w.WriteHeader(http.StatusNoContent)
			}))
			req := httptest.NewRequest(http.MethodGet, "/api/product/7", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
