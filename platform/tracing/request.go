package tracing

import (
	"context"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// CorrelationKey is the context key a request's correlation id (a string)
// is found under; the HTTP server's request scope answers it. Every span
// started within the request carries the id as its correlation_id
// attribute, so a trace is found from a log line or an error body.
type CorrelationKey struct{}

// correlationAttribute names the correlation id in spans, as in log lines.
const correlationAttribute = "correlation_id"

// correlation is the span processor that copies the request's correlation
// id onto each span started within it (coupon lookup, order placement, SQL
// statements), whichever module starts it.
type correlation struct{}

func (correlation) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if id, ok := ctx.Value(CorrelationKey{}).(string); ok && id != "" {
		s.SetAttributes(attribute.String(correlationAttribute, id))
	}
}

func (correlation) OnEnd(sdktrace.ReadOnlySpan)      {}
func (correlation) Shutdown(context.Context) error   { return nil }
func (correlation) ForceFlush(context.Context) error { return nil }

// NameRequest completes the request's server span once the route is
// known: named after its method and route template (GET
// /api/product/:id), never the raw path, so span names stay few (a request
// no route matched keeps its method alone), and carrying the correlation
// id, which the request's scope made after the span started. It does
// nothing when the span is not recorded.
func NameRequest(ctx context.Context, method, route, correlationID string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if correlationID != "" {
		span.SetAttributes(attribute.String(correlationAttribute, correlationID))
	}
	if route != "" {
		span.SetName(method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
}

// Log field names of the trace and span ids.
const (
	TraceIDField = "trace_id"
	SpanIDField  = "span_id"
)

// LogIDs adds ctx's trace and span ids to a log line (in the W3C
// traceparent's lower-case hex) when ctx has a span, sampled or not: the
// ids of an incoming traceparent's trace when there was one.
func LogIDs(ctx context.Context, e *zerolog.Event) *zerolog.Event {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return e
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	return e.Hex(TraceIDField, tid[:]).Hex(SpanIDField, sid[:])
}

// WithLogIDs adds ctx's trace and span ids to a logger's context, as LogIDs
// does to one line.
func WithLogIDs(ctx context.Context, c zerolog.Context) zerolog.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return c
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	return c.Hex(TraceIDField, tid[:]).Hex(SpanIDField, sid[:])
}

// Child starts a span named name, child of ctx's span, when ctx's span is
// recorded: a module's spans (the coupon lookup, the order placement) exist
// within a traced request. Otherwise it returns ctx and a span that records
// nothing, at no cost: tracing off, a request the sampler left out, work
// outside any request.
func Child(ctx context.Context, tracer trace.Tracer, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return tracer.Start(ctx, name)
}
