package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"minikart/test/internal/harness"
)

// tracingVariant is one server of the tracing run: its name in the
// figures and what its environment adds.
type tracingVariant struct {
	name string
	env  []string
}

// tracingVariants are the servers whose cost the tracing run compares:
// tracing off, on with every trace sampled, and on with 1 % of them. The
// load sends no traceparent, so the ratio decides for every request.
var tracingVariants = []tracingVariant{
	{"off", nil},
	{"on_100", []string{"MINIKART_TRACING_ENABLED=true", "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=1"}},
	{"on_1", []string{"MINIKART_TRACING_ENABLED=true", "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.01"}},
}

// tracingTest (make bench-tracing) measures what tracing costs: three
// servers on one PostgreSQL, tracing off, on at 100 % and on at 1 %,
// exporting to an OTLP/HTTP sink in this process that takes each export and
// discards it. Each variant runs a checkout and a browse step at
// saturation in two halves, the variants taking turns in one order and then
// the reverse, so a drift in what else the machine does weighs on all
// alike. It prints each step, then the figures: each variant's throughput,
// server CPU per request and p99 against off's, and the spans each traced
// server exported and dropped.
func tracingTest(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if os.Getenv("BASE_URL") != "" {
		return fmt.Errorf("-tracing starts its own servers; unset BASE_URL")
	}
	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.close()
	pg, err := newPostgresSetup(o, memTotal())
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "minikart-load-tracing-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	envOf := func(v tracingVariant) []string {
		return append(append([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + sink.url}, o.serverEnv...), v.env...)
	}
	// The first variant's stack builds the server and starts PostgreSQL;
	// the others run the same binary on the same database, and its
	// PostgreSQL's CPU is theirs too.
	first, err := startStack(ctx, root, work, stderr, pg, envOf(tracingVariants[0])...)
	if err != nil {
		return err
	}
	defer func() {
		if err := first.stop(); err != nil {
			fmt.Fprintln(stderr, "loadtest: stop:", err)
		}
	}()
	stacks := []*stack{first}
	for _, v := range tracingVariants[1:] {
		srv, err := startServer(ctx, filepath.Join(work, "minikart"), root, first.dbURL, filepath.Join(work, v.name+".log"), stderr, envOf(v)...)
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		defer srv.stop()
		stacks = append(stacks, &stack{base: srv.base, adminURL: srv.adminURL, dbURL: first.dbURL, apiKey: first.apiKey,
			procs: procs{server: srv.pid, postmaster: first.procs.postmaster}, logPath: srv.logPath})
	}

	rep := &Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), Base: stacks[0].base, Clients: o.clients, Duration: o.duration.String()}
	window := max(o.duration/20, 100*time.Millisecond)
	fmt.Fprintf(stderr, "warming up each server for %s\n", o.warmup)
	for _, st := range stacks {
		attack(ctx, attackSpec{name: "warmup", targeter: mixedTargeter(browseTargeter(st.base), checkoutTargeter(st.base, st.apiKey, 9)),
			clients: 16, duration: o.warmup}, o.maxRequests, window, st.procs)
	}
	fmt.Fprintf(stdout, "%d CPUs shared by the load generator, three servers (one loaded at a time) and PostgreSQL; each variant's steps take %s in two halves\n",
		rep.CPUs, o.duration)

	type scenario struct {
		name     string
		targeter func(*stack) attackSpec
	}
	scenarios := []scenario{
		{"checkout", func(st *stack) attackSpec {
			return attackSpec{targeter: checkoutTargeter(st.base, st.apiKey, 9), clients: o.clients}
		}},
		{"browse", func(st *stack) attackSpec { return attackSpec{targeter: browseTargeter(st.base), clients: o.clients} }},
	}
	// halves[scenario][variant] are the two halves' summaries.
	halves := map[string][][]Summary{}
	for _, sc := range scenarios {
		halves[sc.name] = make([][]Summary, len(tracingVariants))
		for round := range 2 {
			for k := range tracingVariants {
				i := k
				if round == 1 {
					i = len(tracingVariants) - 1 - k
				}
				st := stacks[i]
				spec := sc.targeter(st)
				spec.name = fmt.Sprintf("%s-%s-%d", sc.name, tracingVariants[i].name, round+1)
				spec.target, spec.duration = "minikart", o.duration/2
				s := attack(ctx, spec, o.maxRequests, window, st.procs)
				if err := ctx.Err(); err != nil {
					return err
				}
				rep.Steps = append(rep.Steps, s)
				printStep(stdout, s)
				halves[sc.name][i] = append(halves[sc.name][i], s)
			}
		}
	}

	for _, sc := range scenarios {
		off := halves[sc.name][0]
		offRate := combinedOKRate(off[0], off[1])
		offCPU, offOK := cpuPerRequest(serverCPU, off...)
		rep.figure(fmt.Sprintf("tracing_off_%s_server_us_per_request", sc.name), offCPU, offOK, 0)
		for i, v := range tracingVariants[1:] {
			on := halves[sc.name][i+1]
			r, ok := ratio(combinedOKRate(on[0], on[1]), offRate)
			rep.figure(fmt.Sprintf("tracing_%s_vs_off_%s_throughput", v.name, sc.name), r, ok, 3)
			onCPU, onOK := cpuPerRequest(serverCPU, on...)
			rep.figure(fmt.Sprintf("tracing_%s_%s_server_us_per_request", v.name, sc.name), onCPU, onOK, 0)
			r, ok = ratio(onCPU, offCPU)
			rep.figure(fmt.Sprintf("tracing_%s_vs_off_%s_server_cpu", v.name, sc.name), r, ok && onOK && offOK, 3)
			r, ok = ratio(max(on[0].Latency.P99, on[1].Latency.P99), max(off[0].Latency.P99, off[1].Latency.P99))
			rep.figure(fmt.Sprintf("tracing_%s_vs_off_%s_p99", v.name, sc.name), r, ok, 2)
		}
	}
	for i, v := range tracingVariants[1:] {
		spans, err := settledSpans(ctx, stacks[i+1].adminURL)
		for _, outcome := range []string{"exported", "failed", "dropped"} {
			rep.figure(fmt.Sprintf("tracing_%s_spans_%s", v.name, outcome), spans[outcome], err == nil, 0)
		}
	}
	rep.figure("tracing_sink_exports", float64(sink.exports.Load()), true, 0)
	rep.figure("tracing_sink_bytes", float64(sink.bytes.Load()), true, 0)
	logged, logsOK := 0, true
	for _, st := range stacks {
		n, err := logErrors(st.logPath)
		logged, logsOK = logged+n, logsOK && err == nil
	}
	rep.figure("server_log_errors", float64(logged), logsOK, 0)
	other, ok := meanOtherCores(rep.Steps)
	rep.figure("other_cpu_cores_mean", other, ok, 2)
	fmt.Fprintln(stdout)
	printFigures(stdout, rep.Figures)
	path := o.out + "-tracing.json"
	if err := writeJSON(path, rep); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", path)
	return nil
}

// sink is an OTLP/HTTP receiver that takes every export and discards it,
// counting exports and bytes: a collector that costs the server nothing
// beyond sending.
type sink struct {
	url            string
	srv            *http.Server
	exports, bytes atomic.Int64
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		s.exports.Add(1)
		s.bytes.Add(n)
		// An empty ExportTraceServiceResponse: every span accepted.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) close() { _ = s.srv.Close() }

// settledSpans reads tracing_spans_total by outcome from a server's admin
// listener once no span waits to be sent (tracing_spans_queued is 0), or
// after 15 s: the processor sends a batch every OTEL_BSP_SCHEDULE_DELAY.
func settledSpans(ctx context.Context, adminURL string) (map[string]float64, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := scrapeTracing(ctx, adminURL)
		if err != nil || m["queued"] == 0 || time.Now().After(deadline) {
			return m, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// scrapeTracing reads a server's tracing metrics: tracing_spans_total by
// outcome, and tracing_spans_queued as "queued".
func scrapeTracing(ctx context.Context, adminURL string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "tracing_spans_queued "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				out["queued"] = f
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, `tracing_spans_total{outcome="`)
		if !ok {
			continue
		}
		outcome, value, ok := strings.Cut(rest, `"} `)
		if v, err := strconv.ParseFloat(value, 64); ok && err == nil {
			out[outcome] = v
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s/metrics has no tracing_spans_total", adminURL)
	}
	return out, sc.Err()
}
