package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"
)

// sample is one request's outcome, timed from the start of its step.
type sample struct {
	At      time.Duration
	Latency time.Duration
	// Code is the HTTP status; 0 means no answer (refused, reset, timed out).
	Code uint16
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Window is one slice of a step's timeline, for the chart.
type Window struct {
	// Start is seconds since the step began.
	Start    float64 `json:"start_s"`
	Requests int     `json:"requests"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	// OtherCores is the CPU work outside the test took meanwhile, when known.
	OtherCores *float64 `json:"other_cores,omitempty"`
}

// CPU is how many cores each party used on average during a step; on a
// shared machine it shows who the bottleneck was.
type CPU struct {
	Server   float64 `json:"server_cores"`
	Loader   float64 `json:"loader_cores"`
	Postgres float64 `json:"postgres_cores"`
	// Other is everything else busy: the kernel's share of loopback
	// networking not charged to a process, and other work on the machine.
	Other float64 `json:"other_cores"`
	Idle  float64 `json:"idle_cores"`
	// Seconds is the wall time the averages span, so that cores times
	// Seconds is CPU time.
	Seconds float64 `json:"seconds"`
}

// Summary is the outcome of one step.
type Summary struct {
	Name string `json:"name"`
	// Target is what took the load: minikart, static or pgbench.
	Target  string `json:"target"`
	Clients int    `json:"clients,omitempty"`
	// Rate is the requested rate per second; 0 means as fast as the clients go.
	Rate       float64        `json:"requested_rate"`
	Seconds    float64        `json:"seconds"`
	Requests   int            `json:"requests"`
	Throughput float64        `json:"throughput_rps"`
	Errors     int            `json:"errors"`
	ByStatus   map[string]int `json:"by_status"`
	MeanMS     float64        `json:"mean_ms"`
	Latency    Percentiles    `json:"latency"`
	Timeline   []Window       `json:"timeline,omitempty"`
	// QuietP99 is the p99 over the windows in which other work took less
	// than quietCores, of which there were QuietWindows: the latency the
	// service gives when it has the machine to itself.
	QuietP99     float64 `json:"quiet_p99_ms"`
	QuietWindows int     `json:"quiet_windows"`
	CPU          *CPU    `json:"cpu,omitempty"`
	// WALBytes is the WAL the database server wrote during the step, when
	// known.
	WALBytes int64 `json:"wal_bytes,omitempty"`
	// Began is when the step started; Postgres lists the background work
	// the load test's PostgreSQL logged meanwhile (checkpoints, autovacuum),
	// timed from Began.
	Began    time.Time `json:"began"`
	Postgres []string  `json:"postgres_background,omitempty"`
}

// summarize computes a step's figures from its samples. A request is an
// error unless it got a 2xx answer.
func summarize(name, target string, samples []sample, elapsed, window time.Duration) Summary {
	s := Summary{Name: name, Target: target, Seconds: elapsed.Seconds(), Requests: len(samples), ByStatus: map[string]int{}}
	if elapsed > 0 {
		s.Throughput = float64(len(samples)) / elapsed.Seconds()
	}
	lat := make([]time.Duration, len(samples))
	var sum time.Duration
	for i, sm := range samples {
		lat[i] = sm.Latency
		sum += sm.Latency
		s.ByStatus[strconv.Itoa(int(sm.Code))]++
		if sm.Code < 200 || sm.Code > 299 {
			s.Errors++
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		s.MeanMS = ms(sum / time.Duration(len(lat)))
	}
	s.Latency = Percentiles{
		P50: ms(percentile(lat, 50)), P90: ms(percentile(lat, 90)), P95: ms(percentile(lat, 95)),
		P99: ms(percentile(lat, 99)), Max: ms(percentile(lat, 100)),
	}
	s.Timeline = timeline(samples, window)
	return s
}

// quietCores is how much CPU other work may take in a window that still
// counts as quiet: less than an eighth of this two-core machine.
const quietCores = 0.25

// quietP99 is the p99 latency of the samples started in quiet windows
// (other[i] in [0, quietCores)), and how many windows were quiet.
func quietP99(samples []sample, other []float64, w time.Duration) (float64, int) {
	quiet := 0
	for _, o := range other {
		if o >= 0 && o < quietCores {
			quiet++
		}
	}
	var lat []time.Duration
	for _, sm := range samples {
		i := int(sm.At / w)
		if i < len(other) && other[i] >= 0 && other[i] < quietCores {
			lat = append(lat, sm.Latency)
		}
	}
	slices.Sort(lat)
	return ms(percentile(lat, 99)), quiet
}

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest value at least p % of the values do not exceed. No interpolation,
// so the figure is always a latency that was really observed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// timeline groups samples by start time into windows of width w. Empty
// windows are kept, so a stall shows as a gap rather than vanishing.
func timeline(samples []sample, w time.Duration) []Window {
	if len(samples) == 0 || w <= 0 {
		return nil
	}
	var last time.Duration
	for _, sm := range samples {
		last = max(last, sm.At)
	}
	buckets := make([][]time.Duration, int(last/w)+1)
	for _, sm := range samples {
		i := int(sm.At / w)
		buckets[i] = append(buckets[i], sm.Latency)
	}
	out := make([]Window, len(buckets))
	for i, b := range buckets {
		slices.Sort(b)
		out[i] = Window{
			Start: (time.Duration(i) * w).Seconds(), Requests: len(b),
			P50: ms(percentile(b, 50)), P90: ms(percentile(b, 90)), P99: ms(percentile(b, 99)),
		}
	}
	return out
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// Figure is one named headline number.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Valid is false when the figure could not be measured (no anchor).
	Valid bool `json:"valid"`
	// Decimals is how many decimals the printed line shows.
	Decimals int `json:"-"`
}

// Report is everything one run measured; it is written as JSON.
type Report struct {
	Started  time.Time `json:"started"`
	CPUs     int       `json:"cpus"`
	Base     string    `json:"base_url"`
	Clients  int       `json:"clients"`
	Duration string    `json:"step_duration"`
	// Postgres is the load test's own cluster: where its files are and
	// the settings it runs with; empty for an external database.
	Postgres *PostgresInfo `json:"postgres,omitempty"`
	Steps    []Summary     `json:"steps"`
	Figures  []Figure      `json:"figures"`
}

// PostgresInfo describes the cluster the load test started.
type PostgresInfo struct {
	Files    string   `json:"files"`
	Settings []string `json:"settings"`
}

// step returns the summary of the named step, if it ran.
func (r *Report) step(name string) (Summary, bool) {
	for _, s := range r.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Summary{}, false
}

// figure records a headline number printed with decimals places.
func (r *Report) figure(name string, v float64, valid bool, decimals int) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: v, Valid: valid, Decimals: decimals})
}

// okRate is a step's rate of successful (2xx) answers per second.
func (s Summary) okRate() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return float64(s.Requests-s.Errors) / s.Seconds
}

// combinedOKRate is the success rate of two runs of one anchor taken
// together, weighted by their lengths.
func combinedOKRate(a, b Summary) float64 {
	secs := a.Seconds + b.Seconds
	if secs <= 0 {
		return 0
	}
	return float64(a.Requests-a.Errors+b.Requests-b.Errors) / secs
}

// perCore is successful requests per CPU-second the load generator, the
// server and PostgreSQL spent together: unlike a raw rate it does not move
// when other work on the machine takes cores away. a and b are runs of one
// anchor (b may be empty); 0 when CPU times are unknown.
func perCore(a, b Summary) float64 {
	ok, coreSecs := 0.0, 0.0
	for _, s := range []Summary{a, b} {
		if s.CPU == nil {
			continue
		}
		ok += float64(s.Requests - s.Errors)
		coreSecs += (s.CPU.Server + s.CPU.Loader + s.CPU.Postgres) * s.Seconds
	}
	if coreSecs <= 0 {
		return 0
	}
	return ok / coreSecs
}

// cpuPerRequest is the CPU time party spent per successful (2xx) answer
// of steps taken together, in microseconds: its cores times the time they
// were averaged over, summed, divided by the answers. False when no step
// has CPU times or answers.
func cpuPerRequest(party func(CPU) float64, steps ...Summary) (float64, bool) {
	ok, secs := 0, 0.0
	for _, s := range steps {
		if s.CPU == nil {
			continue
		}
		ok += s.Requests - s.Errors
		secs += party(*s.CPU) * s.CPU.Seconds
	}
	if ok <= 0 || secs <= 0 {
		return 0, false
	}
	return secs / float64(ok) * 1e6, true
}

func serverCPU(c CPU) float64   { return c.Server }
func postgresCPU(c CPU) float64 { return c.Postgres }

// meanOtherCores is the average CPU that work outside the test took
// during the steps: what the machine's noise was.
func meanOtherCores(steps []Summary) (float64, bool) {
	sum, n := 0.0, 0
	for _, s := range steps {
		if s.CPU != nil {
			sum += s.CPU.Other
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// ratio is a/b, and whether both were measured.
func ratio(a, b float64) (float64, bool) {
	if a <= 0 || b <= 0 {
		return 0, false
	}
	return a / b, true
}

// printStep writes a step's human-readable block.
func printStep(w io.Writer, s Summary) {
	rate := "max"
	if s.Rate > 0 {
		rate = fmt.Sprintf("%.0f/s", s.Rate)
	}
	fmt.Fprintf(w, "%-16s %-9s clients=%-3d rate=%-7s requests=%-7d %8.1f req/s  errors=%d %s\n",
		s.Name, s.Target, s.Clients, rate, s.Requests, s.Throughput, s.Errors, statusString(s.ByStatus))
	tool := s.Target == "pgbench" || s.Target == "wrk"
	if tool && len(s.Timeline) == 0 {
		fmt.Fprintf(w, "%16s latency ms mean=%.2f (%s reports no percentiles)\n", "", s.MeanMS, s.Target)
	} else {
		fmt.Fprintf(w, "%16s latency ms mean=%.2f p50=%.2f p90=%.2f p95=%.2f p99=%.2f max=%.2f", "",
			s.MeanMS, s.Latency.P50, s.Latency.P90, s.Latency.P95, s.Latency.P99, s.Latency.Max)
		// A paced pgbench's percentiles are its own log's, with no CPU
		// per window to tell quiet ones by.
		if !tool {
			fmt.Fprintf(w, "; p99 in quiet windows %.2f (%d of %d)", s.QuietP99, s.QuietWindows, len(s.Timeline))
		}
		fmt.Fprintln(w)
	}
	if s.CPU != nil {
		fmt.Fprintf(w, "%16s cpu cores server=%.2f loader=%.2f postgres=%.2f other=%.2f idle=%.2f\n", "",
			s.CPU.Server, s.CPU.Loader, s.CPU.Postgres, s.CPU.Other, s.CPU.Idle)
	}
}

// printBackground lists, step by step, the background work PostgreSQL
// did during the steps.
func printBackground(w io.Writer, steps []Summary) {
	for _, s := range steps {
		for _, e := range s.Postgres {
			fmt.Fprintf(w, "%-16s postgres %s\n", s.Name, e)
		}
	}
}

// statusString lists counts by status in a stable order: "[200:812 503:3]".
func statusString(by map[string]int) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := "["
	for i, k := range keys {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s:%d", k, by[k])
	}
	return out + "]"
}

// printFigures writes the headline lines, one "name: value" each.
func printFigures(w io.Writer, figs []Figure) {
	for _, f := range figs {
		if !f.Valid {
			fmt.Fprintf(w, "%s: n/a\n", f.Name)
			continue
		}
		fmt.Fprintf(w, "%s: %.*f\n", f.Name, f.Decimals, f.Value)
	}
}

// writeJSON writes the report to path.
func writeJSON(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
