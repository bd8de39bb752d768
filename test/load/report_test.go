package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value is every percentile", ms(7), 50, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p0 is the min", ms(3, 4, 5), 0, 3 * time.Millisecond},
		{"nearest rank rounds up", ms(1, 2, 3, 4), 60, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	var samples []sample
	for i := range 100 {
		samples = append(samples, sample{At: time.Duration(i) * 10 * time.Millisecond, Latency: time.Duration(i+1) * time.Millisecond, Code: 200})
	}
	samples[10].Code = 503
	samples[20].Code = 0
	s := summarize("browse", "minikart", samples, 2*time.Second, 500*time.Millisecond)

	if s.Requests != 100 || s.Throughput != 50 || s.Errors != 2 {
		t.Errorf("requests %d, throughput %v, errors %d; want 100, 50, 2", s.Requests, s.Throughput, s.Errors)
	}
	if got := s.okRate(); got != 49 {
		t.Errorf("okRate = %v, want 49", got)
	}
	if s.ByStatus["200"] != 98 || s.ByStatus["503"] != 1 || s.ByStatus["0"] != 1 {
		t.Errorf("by status %v", s.ByStatus)
	}
	want := Percentiles{P50: 50, P90: 90, P95: 95, P99: 99, Max: 100}
	if s.Latency != want {
		t.Errorf("latency %+v, want %+v", s.Latency, want)
	}
	if s.MeanMS != 50.5 {
		t.Errorf("mean %v, want 50.5", s.MeanMS)
	}
	// Samples start every 10 ms for a second: two windows of 500 ms, 50 each.
	if len(s.Timeline) != 2 || s.Timeline[0].Requests != 50 || s.Timeline[1].Start != 0.5 || s.Timeline[1].P50 != 75 {
		t.Errorf("timeline %+v", s.Timeline)
	}
}

func TestTimelineKeepsEmptyWindows(t *testing.T) {
	samples := []sample{{At: 0, Latency: time.Millisecond}, {At: 2500 * time.Millisecond, Latency: 3 * time.Millisecond}}
	tl := timeline(samples, time.Second)
	if len(tl) != 3 || tl[1].Requests != 0 || tl[2].P99 != 3 {
		t.Errorf("timeline %+v, want 3 windows with an empty middle one", tl)
	}
}

func TestQuietP99(t *testing.T) {
	// Three windows of a second: quiet, busy, unknown. Only the first counts.
	other := []float64{0.1, 0.9, -1}
	var samples []sample
	for i := range 100 {
		samples = append(samples, sample{At: time.Duration(i) * 10 * time.Millisecond, Latency: time.Duration(i+1) * time.Millisecond})
	}
	samples = append(samples,
		sample{At: 1500 * time.Millisecond, Latency: time.Second},
		sample{At: 2500 * time.Millisecond, Latency: time.Second})
	p99, quiet := quietP99(samples, other, time.Second)
	if p99 != 99 || quiet != 1 {
		t.Errorf("quietP99 = %v over %d windows, want 99 over 1", p99, quiet)
	}
}

func TestWindowOther(t *testing.T) {
	at := time.Unix(0, 0)
	marks := []cpuMark{
		{at: at, busy: 10},
		{at: at.Add(time.Second), busy: 11.5, loader: 0.5},                // 1.5 busy, 0.5 ours: 1 other
		{at: at.Add(2 * time.Second), busy: 12, loader: 0.7, server: 0.2}, // 0.5 busy, 0.4 ours: 0.1 other
	}
	got := windowOther(marks, 3)
	want := []float64{1, 0.1, -1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("windowOther = %v, want %v", got, want)
			break
		}
	}
}

func TestPrintFigures(t *testing.T) {
	r := &Report{}
	r.figure("browse_vs_static", 0.6349, true, 2)
	r.figure("checkout_vs_pgbench", 0, false, 2)
	r.figure("c200_errors", 0, true, 0)
	var b bytes.Buffer
	printFigures(&b, r.Figures)
	want := "browse_vs_static: 0.63\ncheckout_vs_pgbench: n/a\nc200_errors: 0\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestCombinedOKRate(t *testing.T) {
	a := Summary{Seconds: 5, Requests: 1000, Errors: 0}
	b := Summary{Seconds: 5, Requests: 600, Errors: 100}
	if got := combinedOKRate(a, b); got != 150 {
		t.Errorf("combinedOKRate = %v, want 150", got)
	}
	if got := combinedOKRate(Summary{}, Summary{}); got != 0 {
		t.Errorf("combinedOKRate of nothing = %v, want 0", got)
	}
}

func TestPerCore(t *testing.T) {
	// 1000 answers on one core for 5 s and 600 on two cores for 5 s:
	// 1600 answers for 15 core-seconds.
	a := Summary{Seconds: 5, Requests: 1000, CPU: &CPU{Loader: 0.5, Server: 0.5, Other: 1}}
	b := Summary{Seconds: 5, Requests: 700, Errors: 100, CPU: &CPU{Loader: 0.5, Server: 1, Postgres: 0.5}}
	if got, want := perCore(a, b), 1600.0/15; got != want {
		t.Errorf("perCore = %v, want %v", got, want)
	}
	if got := perCore(Summary{Requests: 5}, Summary{}); got != 0 {
		t.Errorf("perCore without CPU times = %v, want 0", got)
	}
	if got, ok := meanOtherCores([]Summary{a, b, {}}); !ok || got != 0.5 {
		t.Errorf("meanOtherCores = %v, %v; want 0.5", got, ok)
	}
}

func TestRatio(t *testing.T) {
	if r, ok := ratio(3, 4); !ok || r != 0.75 {
		t.Errorf("ratio(3, 4) = %v, %v", r, ok)
	}
	if _, ok := ratio(3, 0); ok {
		t.Error("ratio with an unmeasured anchor is valid")
	}
}

func TestParsePgbench(t *testing.T) {
	out := `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/order.sql
scaling factor: 1
query mode: prepared
number of clients: 64
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 47120
number of failed transactions: 3 (0.006%)
latency average = 13.426 ms
initial connection time = 61.210 ms
tps = 4766.612341 (without initial connection time)
`
	r, err := parsePgbench(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 47120 || r.Errors != 3 || r.Rate != 4766.612341 || r.MeanMS != 13.426 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parsePgbench("connection to server failed"); err == nil || !strings.Contains(err.Error(), "no throughput") {
		t.Errorf("error %v, want one about missing throughput", err)
	}
}

// TestParsePgbenchLog: each transaction of a paced pgbench's log is a
// sample timed as the load generator times a request, from when it began
// (its logged latency less its wait for its turn), and a failed one has no
// answer.
func TestParsePgbenchLog(t *testing.T) {
	began := time.Unix(1796302483, 700_000_000)
	log := "0 1 113420 0 1796302483 827888 89\n" +
		"1 7 2500 0 1796302484 0 500\n" +
		"2 9 failed 0 1796302484 100000 0\n"
	got, err := parsePgbenchLog(log, began)
	if err != nil {
		t.Fatal(err)
	}
	want := []sample{
		{At: 127888*time.Microsecond - 113331*time.Microsecond, Latency: 113331 * time.Microsecond, Code: 200},
		{At: 300*time.Millisecond - 2*time.Millisecond, Latency: 2 * time.Millisecond, Code: 200},
		{At: 400 * time.Millisecond, Code: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", got, want)
	}
	for _, bad := range []string{"0 1 113420 0 1796302483 827888\n", "0 1 soon 0 1796302483 827888 89\n"} {
		if _, err := parsePgbenchLog(bad, began); err == nil {
			t.Errorf("%q parsed without an error", bad)
		}
	}
}

func TestLogErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	log := `{"level":"info","message":"request"}
{"level":"error","message":"request","status":500}
{"level":"warn","message":"slow"}
{"level":"error","message":"server stopped"}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := logErrors(path); err != nil || n != 2 {
		t.Errorf("logErrors = %d, %v; want 2", n, err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.5:8080", false},
		{"https://example.com", false},
	}
	for _, tt := range tests {
		if err := loopbackOnly(tt.url); (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestCPUPerRequest(t *testing.T) {
	// An order step: 0.6 server cores and 0.9 PostgreSQL cores for 10 s,
	// 3000 answers of which 1000 errors: 6 s and 9 s over 2000 orders.
	checkout := Summary{Requests: 3000, Errors: 1000, CPU: &CPU{Server: 0.6, Postgres: 0.9, Seconds: 10}}
	// pgbench's two halves: 1.5 cores for 5 s over 3000, 2 cores for
	// 5 s over 2000 (one failed): 17.5 s over 4999 transactions.
	pgA := Summary{Requests: 3000, CPU: &CPU{Postgres: 1.5, Seconds: 5}}
	pgB := Summary{Requests: 2000, Errors: 1, CPU: &CPU{Postgres: 2, Seconds: 5}}
	tests := []struct {
		name   string
		party  func(CPU) float64
		steps  []Summary
		want   float64
		wantOK bool
	}{
		{"server per order", serverCPU, []Summary{checkout}, 3000, true},
		{"postgres per order", postgresCPU, []Summary{checkout}, 4500, true},
		{"postgres per pgbench transaction, both halves", postgresCPU, []Summary{pgA, pgB}, 17.5e6 / 4999, true},
		{"a step without CPU times is left out", postgresCPU, []Summary{pgA, {Requests: 9000}}, 2500, true},
		{"no CPU times", serverCPU, []Summary{{Requests: 10}}, 0, false},
		{"no answers", serverCPU, []Summary{{Requests: 5, Errors: 5, CPU: &CPU{Server: 1, Seconds: 1}}}, 0, false},
		{"no CPU spent", postgresCPU, []Summary{{Requests: 5, CPU: &CPU{Server: 1, Seconds: 1}}}, 0, false},
	}
	for _, tt := range tests {
		got, ok := cpuPerRequest(tt.party, tt.steps...)
		if ok != tt.wantOK || math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("%s: cpuPerRequest = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCPUBetweenSpansWallTime(t *testing.T) {
	at := time.Unix(0, 0)
	a := cpuMark{at: at, busy: 10, server: 1, postgres: 2}
	b := cpuMark{at: at.Add(4 * time.Second), busy: 16, server: 3, postgres: 5}
	c := cpuBetween(a, b, 0)
	if c.Seconds != 4 || c.Server != 0.5 || c.Postgres != 0.75 {
		t.Fatalf("cpuBetween = %+v, want 4 s, 0.5 server and 0.75 PostgreSQL cores", c)
	}
	// Cores times the span give back the CPU time each party spent.
	if r := roundCPU(c); r.Server*r.Seconds != 2 || r.Postgres*r.Seconds != 3 {
		t.Errorf("rounded %+v no longer gives 2 s and 3 s of CPU", r)
	}
}
