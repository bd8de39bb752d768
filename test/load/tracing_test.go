package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The tracing comparison in short, end to end: three real servers, spans
// sent over OTLP/HTTP to the sink, every figure printed, so that make
// bench-tracing cannot rot between the runs someone makes of it.
func TestTracingBenchInShort(t *testing.T) {
	o := options{
		tracing: true, duration: 600 * time.Millisecond, warmup: 200 * time.Millisecond, clients: 4, maxRequests: 100_000,
		postgres: postgresStock, freshWAL: true, out: t.TempDir() + "/report",
		// Batches go at once, so the spans are counted before the figures.
		serverEnv: envList{"OTEL_BSP_SCHEDULE_DELAY=100"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	if err := tracingTest(ctx, o, &out, &errs); err != nil {
		t.Fatalf("tracing benchmark: %v\n%s\n%s", err, errs.String(), out.String())
	}
	got := out.String()
	figure := func(name string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + name + `: ([0-9.]+)$`).FindStringSubmatch(got)
		if m == nil {
			t.Errorf("no figure %s: line in\n%s", name, got)
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	for _, v := range []string{"on_100", "on_1"} {
		for _, sc := range []string{"checkout", "browse"} {
			figure("tracing_" + v + "_vs_off_" + sc + "_throughput")
			figure("tracing_" + v + "_vs_off_" + sc + "_server_cpu")
			figure("tracing_" + v + "_vs_off_" + sc + "_p99")
		}
	}
	if n := figure("tracing_on_100_spans_exported"); n == 0 {
		t.Error("the fully sampled server exported no span")
	}
	if n := figure("tracing_on_100_spans_failed") + figure("tracing_on_100_spans_dropped"); n != 0 {
		t.Errorf("%v spans failed or dropped with a sink that takes everything", n)
	}
	if figure("tracing_sink_exports") == 0 {
		t.Error("the sink received no export")
	}
	if figure("server_log_errors") != 0 {
		t.Errorf("error lines in the servers' logs:\n%s", got)
	}
}
