package tracing

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	mklog "minikart/platform/log"
	"minikart/platform/metrics"
)

// gate is the SDK's batch span processor with its drops counted. The
// processor drops a finished span when its queue is full (the collector is
// slow or down) and says so to nobody; the gate admits a span only while
// fewer than the queue's size are waiting (ended, not yet handed to the
// exporter), so the processor's queue never overflows and every span that
// does not fit is dropped here, and counted. Ending a span never waits:
// admission is one atomic add.
type gate struct {
	sdktrace.SpanProcessor
	// limit is the processor's queue size, OTEL_BSP_MAX_QUEUE_SIZE or the
	// SDK's default, as the SDK read it.
	limit   int64
	waiting atomic.Int64
	m       *spanMetrics
}

// newGate starts the batch span processor that sends to exp, and registers
// the spans' metrics with reg.
func newGate(exp sdktrace.SpanExporter, reg prometheus.Registerer, log zerolog.Logger) (*gate, error) {
	g := &gate{}
	m, err := newMetrics(reg, func() float64 { return float64(g.waiting.Load()) })
	if err != nil {
		return nil, err
	}
	g.m = m
	e := &countingExporter{SpanExporter: exp, g: g, log: log}
	g.SpanProcessor = sdktrace.NewBatchSpanProcessor(e, func(o *sdktrace.BatchSpanProcessorOptions) {
		// Applied after the SDK's defaults and the variables: read, not set.
		g.limit = int64(o.MaxQueueSize)
	})
	return g, nil
}

// OnEnd queues a sampled span if there is room, and counts it dropped
// otherwise. The processor ignores spans that are not sampled.
func (g *gate) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if g.waiting.Add(1) > g.limit {
		g.waiting.Add(-1)
		g.m.dropped.Inc()
		return
	}
	g.SpanProcessor.OnEnd(s)
}

// countingExporter counts what the exporter sent and what it failed to,
// and reports a failing collector once, when it starts failing, and again
// when it answers once more, rather than at every batch.
type countingExporter struct {
	sdktrace.SpanExporter
	g       *gate
	failing atomic.Bool
	log     zerolog.Logger
}

// ExportSpans sends a batch; the spans no longer wait from here on. The
// error is reported here, so it is not handed back to the processor, which
// would print it to standard error at every batch.
func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	n := len(spans)
	e.g.waiting.Add(-int64(n))
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.g.m.failed.Add(float64(n))
		if !e.failing.Swap(true) {
			e.log.Warn().Str("error", mklog.Clip(err.Error())).
				Msg("spans not exported: the collector does not answer; spans are dropped and counted (tracing_spans_total) until it does")
		}
		return nil
	}
	e.g.m.exported.Add(float64(n))
	if e.failing.Swap(false) {
		e.log.Info().Msg("spans exported again: the collector answers")
	}
	return nil
}

// spanMetrics counts finished spans by what became of them: a label with
// three values, whatever the traffic.
type spanMetrics struct {
	exported, failed, dropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, waiting func() float64) (*spanMetrics, error) {
	spans := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tracing_spans_total",
		Help: "Sampled spans by outcome: exported to the collector, failed (the collector refused them or did not answer), dropped (the queue was full, the collector being slow or down).",
	}, []string{"outcome"})
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tracing_spans_queued",
		Help: "Sampled spans finished and waiting to be exported.",
	}, waiting)
	m := &spanMetrics{
		exported: spans.WithLabelValues("exported"),
		failed:   spans.WithLabelValues("failed"),
		dropped:  spans.WithLabelValues("dropped"),
	}
	return m, metrics.Register(reg, "tracing", spans, queued)
}
