// Package tracing provides OpenTelemetry tracing: the tracer provider every
// module starts its spans from, the HTTP server's span (W3C traceparent in,
// and out in the answer's traceparent header), and the pgx tracer that gives
// each SQL statement a span. Off by default (tracing.enabled); on, spans go
// over OTLP/HTTP to the collector the standard OTEL_* variables name
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME…),
// read by the OpenTelemetry SDK itself. A collector that is down never holds
// a request: finished spans wait in the SDK's bounded queue, and those that
// do not fit are dropped and counted (tracing_spans_total{outcome="dropped"}).
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/fx"

	"minikart/platform/config"
	mklog "minikart/platform/log"
)

// Config is the tracing section. What the OpenTelemetry SDK reads from
// OTEL_* variables (the collector's address, headers, timeout, the sampler,
// the service name, the queue's size) is not repeated here.
type Config struct {
	Enabled bool `mapstructure:"enabled"`
	// FlushTimeout bounds how long the stop waits for the spans still
	// queued to reach the collector; what has not gone by then is dropped,
	// so a collector that is down never fails or prolongs a stop.
	FlushTimeout time.Duration `mapstructure:"flush_timeout"`
}

// Validate checks the flush timeout.
func (c Config) Validate() error {
	return config.Positive("flush_timeout", c.FlushTimeout)
}

// Check refuses an OTLP protocol other than the one spans are sent with,
// when tracing is on: a variable set for gRPC would otherwise send
// HTTP/protobuf to a gRPC port, and every span would be lost quietly.
func (c Config) Check(string) error {
	if !c.Enabled {
		return nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v, ok := os.LookupEnv(name); ok && v != "" && v != protocol {
			return config.Invalid("enabled", "spans are exported over OTLP with %s, but %s is %q; unset it or set it to %s", protocol, name, v, protocol)
		}
	}
	return nil
}

// protocol is the only OTLP protocol spans are sent with.
const protocol = "http/protobuf"

// serviceName names the service in the spans' resource unless
// OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says
// otherwise.
const serviceName = "minikart"

// Module provides *Tracing and the trace.TracerProvider modules start their
// spans from (a no-op one when tracing is off).
var Module = fx.Module("tracing",
	config.Section[Config]("tracing"),
	fx.Provide(
		newExporter,
		New,
		func(t *Tracing) trace.TracerProvider { return t.provider },
	),
)

// Tracing is the application's tracing: the tracer provider, and what the
// HTTP server and the database pools hook in. Its zero value is off.
type Tracing struct {
	provider trace.TracerProvider
	// sdk is the provider that records and exports; nil when off.
	sdk        *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// newExporter is the OTLP/HTTP exporter the SDK configures from the OTEL_*
// variables; nil when tracing is off. It opens no connection until the
// first spans are sent.
func newExporter(c Config) (sdktrace.SpanExporter, error) {
	if !c.Enabled {
		return nil, nil
	}
	exp, err := otlptracehttp.New(context.Background())
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	return exp, nil
}

// New returns the application's tracing. Off, it is a no-op provider that
// records nothing and costs a request nothing. On, spans are sampled as
// OTEL_TRACES_SAMPLER says (parent-based, always on by default), queued in
// the SDK's batch span processor (OTEL_BSP_* size it) and sent by exp; the
// stop flushes the queue within tracing.flush_timeout and the stop's own
// deadline.
func New(lc fx.Lifecycle, c Config, exp sdktrace.SpanExporter, reg prometheus.Registerer, log zerolog.Logger) (*Tracing, error) {
	if !c.Enabled {
		return &Tracing{provider: noop.NewTracerProvider()}, nil
	}
	log = log.With().Str("component", "tracing").Logger()
	res, err := newResource()
	if err != nil {
		return nil, err
	}
	g, err := newGate(exp, reg, log)
	if err != nil {
		return nil, err
	}
	// What the SDK reports on its own (a sampler variable it cannot
	// parse) goes to the service's log as JSON, not to standard error;
	// export failures are reported by the gate, once.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn().Str("error", mklog.Clip(err.Error())).Msg("OpenTelemetry SDK")
	}))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithRawSpanLimits(spanLimits()),
		sdktrace.WithSpanProcessor(correlation{}),
		sdktrace.WithSpanProcessor(g),
	)
	lc.Append(fx.StopHook(func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, c.FlushTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn().Err(err).Msg("spans not flushed at stop")
		}
		return nil
	}))
	return &Tracing{
		provider:   tp,
		sdk:        tp,
		propagator: propagation.TraceContext{},
	}, nil
}

// newResource describes the service: service.name minikart unless the
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES variables say otherwise,
// and the SDK's own attributes.
func newResource() (*resource.Resource, error) {
	// Later detectors win: the variables over the default name.
	r, err := resource.New(context.Background(),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return r, nil
}

// maxAttributeValue bounds an attribute's value (a path, a user agent,
// an SQL statement) when OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT does not: the
// SDK's default is no bound, and a client chooses its request's path.
const maxAttributeValue = 1024

// spanLimits are the SDK's limits, as the OTEL_* variables set them, with
// an attribute's value bounded to maxAttributeValue unless they bound it.
func spanLimits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	if l.AttributeValueLengthLimit < 0 {
		l.AttributeValueLengthLimit = maxAttributeValue
	}
	return l
}

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// TracerProvider is the provider spans start from.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if t == nil {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// ForceFlush sends the spans queued so far, for tests and tools that read
// them at once.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// Handler wraps the server's handler so that each request runs in a server
// span, the child of the caller's when the request carries a W3C
// traceparent header, and answers with the span's own traceparent, so a
// client can find its request's trace. Off, it returns h itself. The span
// is named by its method alone until the server names it by route
// (NameRequest).
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if !t.Enabled() {
		return h
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.propagator.Inject(r.Context(), propagation.HeaderCarrier(w.Header()))
		h.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(inner, "http.server",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
		// The server counts its requests in Prometheus already.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
	)
}

// QueryTracer is the pgx tracer that gives each SQL statement run within
// a recorded span a span of its own, named by what pgx did and the
// statement's operation ("query SELECT", "query WITH"; "prepare SELECT"
// beneath it the first time a connection runs it) and carrying the
// statement's text (never its arguments); nil when tracing is off, so pgx
// traces nothing.
func (t *Tracing) QueryTracer() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(t.provider),
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
		// A statement's span shows its wait for a connection; a span per
		// acquire would double the spans for little.
		otelpgx.WithDisableAcquireTracer(),
		otelpgx.WithQuerySpanNamePrefix(),
	)
}
