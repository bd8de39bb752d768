// Command load is Mini-Kart's load test (make loadtest). It builds and
// starts the server on a throwaway PostgreSQL (or targets BASE_URL), then
// runs bounded steps on 127.0.0.1 only, beside physical anchors measured
// in the same run on the same machine: plain net/http serving the same
// catalogue bytes from memory in a process of its own, and pgbench running
// the order's SQL, each
// half before and half after the step it anchors. Figures are ratios to
// those anchors so they mean something on a noisy machine.
//
// It prints a block per step and the headline lines
//
//	browse_vs_static: X.XX
//	checkout_vs_pgbench: X.XX
//	browse_vs_static_per_core: X.XX      the same per CPU-second spent
//	checkout_vs_pgbench_per_core: X.XX   by loader, server and PostgreSQL
//	checkout_server_us_per_order: N      CPU µs per 2xx order at saturation
//	checkout_postgres_us_per_order: N    (server; PostgreSQL, all processes)
//	pgbench_postgres_us_per_tx: N        PostgreSQL's for the same SQL alone
//	checkout_server_cpu_vs_pgbench: X.XX the server's per order over that
//	browse_server_us_per_request: N      server CPU µs per catalogue read
//	list_server_cpu_vs_static: X.XX      per catalogue list, over the static
//	                                     anchor's per answer (1: no dearer)
//	checkout_wal_bytes_per_order: N      WAL an order writes
//	pgbench_wal_bytes_per_tx: N          and its SQL alone
//	checkpoint_every_s_at_saturation: N  how often the cluster's settings
//	                                     checkpoint at that WAL rate
//	other_cpu_cores_mean: X.XX           cores other work on the machine took
//	get_p99_ms_at_half_rate: N
//	post_p99_ms_at_half_rate: N
//	pgbench_p99_ms_at_half_rate: N       the order's SQL alone at that rate
//	get_p99_ms_at_half_rate_quiet: N     over the windows other work left alone
//	post_p99_ms_at_half_rate_quiet: N
//	c200_errors: N
//	server_log_errors: N                 error lines in the server's log
//
// and writes <out>.json and a latency chart <out>.svg. Every step is bounded
// by -duration and -max-requests; the server and the cluster are stopped at
// the end, on error and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"minikart/test/internal/harness"
)

// options are the command line, with environment fallbacks for make.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	clients     int
	many        int
	maxRequests int
	out         string
	profile     bool
	// postgres is postgresTuned or postgresStock: the settings of the
	// cluster the load test starts.
	postgres string
	// postgresOnDisk keeps the cluster's files on disk, not in memory.
	postgresOnDisk bool
	// freshWAL leaves the cluster without WAL segments to reuse.
	freshWAL bool
	// serverEnv is added to the server's environment (KEY=VALUE each), to
	// compare a runtime setting such as GOGC on the server alone.
	serverEnv envList
	// soak runs the soak (soakTest) instead of the steps, for duration.
	soak bool
	// scaleBench runs the scale benchmark (scaleTest) instead, filling
	// its databases to scale; bin is the server binary it runs (built
	// from the checkout when empty).
	scaleBench bool
	scale      scaleSizes
	bin        string
	// tracing compares tracing off and on (tracingTest) instead.
	tracing bool
	// serveStatic, when set, makes this process the static anchor
	// (startStatic) serving that file, of serveStaticType.
	serveStatic, serveStaticType string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return 2
	}
	if o.serveStatic != "" {
		if err := serveStatic(o.serveStatic, o.serveStaticType, os.Stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "loadtest: static anchor:", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	test := loadTest
	switch {
	case o.soak:
		test = soakTest
	case o.scaleBench:
		test = scaleTest
	case o.tracing:
		test = tracingTest
	}
	if err := test(ctx, o, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "loadtest: interrupted; the server and the database are stopped")
			return 130
		}
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return 0
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.duration, "duration", envDuration("DURATION", 10*time.Second), "length of each step (env DURATION)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up before the measured steps")
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients of the saturation steps and their anchors")
	fs.IntVar(&o.many, "many", 200, "concurrent clients of the many-clients step")
	fs.IntVar(&o.maxRequests, "max-requests", 2_000_000, "most requests one step sends")
	fs.StringVar(&o.out, "out", "loadtest-report", "report path without extension: writes .json and .svg")
	fs.BoolVar(&o.soak, "soak", false, "soak instead: mixed load at half the saturated rate for -duration, sampling the server's resources every 10 s (make soak)")
	fs.BoolVar(&o.scaleBench, "scale", false, "the scale benchmark instead (make bench-scale): the same steps on a database filled to -orders, -products and -keys and on an empty one, alternately")
	fs.IntVar(&o.scale.orders, "orders", envInt("ORDERS", 10_000_000), "orders the scale benchmark fills its database with, two items each (env ORDERS)")
	fs.IntVar(&o.scale.products, "products", envInt("PRODUCTS", 100_000), "products on the scale benchmark's menu, 10 or more (env PRODUCTS)")
	fs.IntVar(&o.scale.keys, "keys", envInt("KEYS", 1_000_000), "unexpired idempotency keys in the scale benchmark's database; its purge step deletes as many expired ones (env KEYS)")
	fs.StringVar(&o.bin, "bin", "", "the server binary the scale benchmark runs (default: built from the checkout)")
	fs.BoolVar(&o.tracing, "tracing", false, "compare tracing off, on at 100 % and on at 1 % instead: three servers on one PostgreSQL, exporting to an OTLP sink in this process, checkout and browse at saturation for -duration each (make bench-tracing)")
	fs.BoolVar(&o.profile, "profile", os.Getenv("LOADTEST_PROFILE") != "", "save server CPU and allocation profiles of the saturation steps to <out>-<step>.cpu.prof and .allocs.prof (env LOADTEST_PROFILE)")
	fs.StringVar(&o.postgres, "postgres", postgresTuned, "settings of the PostgreSQL the load test starts: tuned (deploy/README.md's) or stock (PostgreSQL's defaults); durability is on either way")
	fs.BoolVar(&o.freshWAL, "postgres-fresh-wal", false, "leave the PostgreSQL as initdb made it, with no WAL segments ready for reuse, so every 16 MB of WAL the commits wait while a new segment is made")
	fs.BoolVar(&o.postgresOnDisk, "postgres-on-disk", false, "keep the PostgreSQL's files on disk (TMPDIR) instead of in memory (/dev/shm), so every commit also waits for this machine's disk")
	fs.StringVar(&o.serveStatic, "serve-static", "", "internal: serve this file as the static anchor's process (the load test starts it)")
	fs.StringVar(&o.serveStaticType, "serve-static-type", "application/json", "internal: the static anchor's content type")
	fs.Var(&o.serverEnv, "server-env", "KEY=VALUE added to the server's environment only, e.g. GOGC=400 (repeatable; env LOADTEST_SERVER_ENV, space-separated)")
	for _, kv := range strings.Fields(os.Getenv("LOADTEST_SERVER_ENV")) {
		if err := o.serverEnv.Set(kv); err != nil {
			return o, err
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if _, err := postgresSettings(o.postgres, 0); err != nil {
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if o.duration <= 0 || o.clients <= 0 || o.many <= 0 || o.maxRequests <= 0 {
		fmt.Fprintln(stderr, "duration, clients, many and max-requests must be positive")
		return o, errors.New("bad options")
	}
	return o, nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func loadTest(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "minikart-load-")
	if err != nil {
		return err
	}
	pg, err := newPostgresSetup(o, memTotal())
	if err != nil {
		return err
	}
	st, err := startStack(ctx, root, work, stderr, pg, o.serverEnv...)
	if err != nil {
		// Keep the work directory: it has the server's log.
		return err
	}
	defer func() {
		if err := st.stop(); err != nil {
			fmt.Fprintln(stderr, "loadtest: stop:", err)
		}
		_ = os.RemoveAll(work)
	}()

	body, contentType, err := fetchProducts(ctx, st.base)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	static, err := startStatic(ctx, self, body, contentType, work)
	if err != nil {
		return err
	}
	defer static.stop()
	staticBase := static.base
	// procsOf is whose CPU a step's server column shows: the static
	// anchor's process for its steps, the server's for the others.
	procsOf := func(target string) procs {
		p := st.procs
		if target == "static" {
			p.server = static.pid
		}
		return p
	}

	wal, err := openWALMeter(st.dbURL)
	if err != nil {
		return err
	}
	defer wal.close()

	rep := &Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), Base: st.base, Clients: o.clients, Duration: o.duration.String()}
	if st.procs.postmaster > 0 {
		rep.Postgres = &PostgresInfo{Files: pg.where(), Settings: pg.settings}
	}
	window := max(o.duration/20, 100*time.Millisecond)
	browse := browseTargeter(st.base)
	checkout := checkoutTargeter(st.base, st.apiKey, 9)
	mixed := mixedTargeter(browse, checkout)

	// step runs one HTTP step, records it and, when asked, profiles the
	// server meanwhile.
	step := func(spec attackSpec, profile bool) (Summary, error) {
		if err := ctx.Err(); err != nil {
			return Summary{}, err
		}
		done := make(chan struct{})
		if profile && o.profile && st.adminURL != "" && spec.target == "minikart" {
			go func() {
				defer close(done)
				var wg sync.WaitGroup
				for _, kind := range profileKinds {
					wg.Go(func() {
						if err := saveProfile(ctx, st.adminURL, kind.endpoint, spec.duration, o.out+"-"+spec.name+kind.suffix); err != nil {
							fmt.Fprintln(stderr, "loadtest: profile:", err)
						}
					})
				}
				wg.Wait()
			}()
		} else {
			close(done)
		}
		wal0, walOK := wal.position(ctx)
		s := attack(ctx, spec, o.maxRequests, window, procsOf(spec.target))
		if wal1, ok := wal.position(ctx); ok && walOK {
			s.WALBytes = wal1 - wal0
		}
		<-done
		if err := ctx.Err(); err != nil {
			return s, err
		}
		rep.Steps = append(rep.Steps, s)
		printStep(stdout, s)
		return s, nil
	}

	fmt.Fprintf(stderr, "warming up for %s\n", o.warmup)
	attack(ctx, attackSpec{name: "warmup", targeter: mixed, clients: 16, duration: o.warmup}, o.maxRequests, window, st.procs)
	attack(ctx, attackSpec{name: "warmup", targeter: listTargeter(staticBase), clients: 16, duration: o.warmup / 3}, o.maxRequests, window, st.procs)
	fmt.Fprintf(stdout, "%d CPUs shared by the load generator, the server and PostgreSQL; steps of %s\n", rep.CPUs, o.duration)
	if rep.Postgres != nil {
		fmt.Fprintf(stdout, "PostgreSQL -postgres %s, %s, durable (fsync, full_page_writes, synchronous_commit on): %s\n",
			o.postgres, rep.Postgres.Files, strings.Join(rep.Postgres.Settings, " "))
	}

	// Each anchor runs half its time before and half after the step it
	// anchors, so a drift in what else the machine is doing weighs on both
	// sides alike.
	c, half := o.clients, o.duration/2
	staticSpec := attackSpec{name: "static-list", target: "static", targeter: listTargeter(staticBase), clients: c, duration: half}
	staticA, err := step(staticSpec.named("static-list-a"), false)
	if err != nil {
		return err
	}
	list, err := step(attackSpec{name: "list", target: "minikart", targeter: listTargeter(st.base), clients: c, duration: o.duration}, true)
	if err != nil {
		return err
	}
	staticB, err := step(staticSpec.named("static-list-b"), false)
	if err != nil {
		return err
	}
	// The same GET with wrk, one loader thread, against the static handler
	// before and after: the figure without this load test's own client.
	wrkFigure, wrkOK := 0.0, false
	wrkStep := func(name, target, base string, d time.Duration) (Summary, bool) {
		p := procsOf(target)
		before := markCPU(p)
		r, err := runWrk(ctx, base+"/api/product", c, d)
		if err != nil {
			fmt.Fprintf(stdout, "%-16s skipped: %v\n", name, err)
			return Summary{}, false
		}
		s := toolStep(name, "wrk", c, before, markCPU(p), r)
		rep.Steps = append(rep.Steps, s)
		printStep(stdout, s)
		return s, r.Errors == 0
	}
	if wa, ok := wrkStep("wrk-static-a", "static", staticBase, half); ok {
		wm, okM := wrkStep("wrk-list", "minikart", st.base, o.duration)
		wb, okB := wrkStep("wrk-static-b", "static", staticBase, half)
		if okM && okB {
			wrkFigure, wrkOK = ratio(wm.okRate(), combinedOKRate(wa, wb))
		}
	}
	browseSat, err := step(attackSpec{name: "browse", target: "minikart", targeter: browse, clients: c, duration: o.duration}, false)
	if err != nil {
		return err
	}
	// pgbenchStep runs the order's SQL as the checkout's anchor, for d, as
	// fast as it goes or at rate; at a rate the step has pgbench's latency
	// percentiles and timeline too.
	pgbenchStep := func(name string, rate float64, d time.Duration) (Summary, error) {
		before := markCPU(st.procs)
		wal0, walOK := wal.position(ctx)
		pr, samples, err := runPgbench(ctx, st.dbURL, st.pgOptions, c, d, rate, work)
		if err != nil {
			return Summary{}, err
		}
		wal1, walOK1 := wal.position(ctx)
		s := toolStep(name, "pgbench", c, before, markCPU(st.procs), pr)
		if samples != nil {
			paced := summarize(name, "pgbench", samples, time.Duration(pr.Seconds*float64(time.Second)), window)
			s.Latency, s.Timeline, s.MeanMS, s.Rate = paced.Latency, paced.Timeline, paced.MeanMS, rate
		}
		if walOK && walOK1 {
			s.WALBytes = wal1 - wal0
		}
		rep.Steps = append(rep.Steps, s)
		printStep(stdout, s)
		return s, nil
	}
	var pgA, pgB Summary
	if st.dbURL != "" {
		if pgA, err = pgbenchStep("pgbench-order-a", 0, half); err != nil {
			return err
		}
	}
	checkoutSat, err := step(attackSpec{name: "checkout", target: "minikart", targeter: checkout, clients: c, duration: o.duration}, true)
	if err != nil {
		return err
	}
	if st.dbURL != "" {
		if pgB, err = pgbenchStep("pgbench-order-b", 0, half); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, "pgbench-order    skipped: DATABASE_URL names no database for the external server")
	}
	if _, err := step(attackSpec{name: "mixed", target: "minikart", targeter: mixed, clients: c, duration: o.duration}, true); err != nil {
		return err
	}
	getRate := max(browseSat.okRate()/2, 1)
	getHalf, err := step(attackSpec{name: "browse-half", target: "minikart", targeter: browse, clients: c * 4,
		rate: getRate, duration: o.duration}, false)
	if err != nil {
		return err
	}
	// The static handler at the same rate and clients: what this machine
	// and the load generator add to a GET on their own, through a process
	// of its own as the server's GETs go.
	staticHalf, err := step(attackSpec{name: "static-half", target: "static", targeter: listTargeter(staticBase), clients: c * 4,
		rate: getRate, duration: o.duration / 2}, false)
	if err != nil {
		return err
	}
	postRate := max(checkoutSat.okRate()/2, 1)
	postHalf, err := step(attackSpec{name: "checkout-half", target: "minikart", targeter: checkout, clients: c * 4,
		rate: postRate, duration: o.duration}, false)
	if err != nil {
		return err
	}
	// The order's SQL alone at the same rate: what PostgreSQL and this
	// machine add to an order's tail on their own, as static-half is for a
	// GET.
	var pgHalf Summary
	if st.dbURL != "" {
		if pgHalf, err = pgbenchStep("pgbench-half", postRate, half); err != nil {
			return err
		}
	}
	many, err := step(attackSpec{name: fmt.Sprintf("mixed-c%d", o.many), target: "minikart", targeter: mixed, clients: o.many, duration: o.duration}, false)
	if err != nil {
		return err
	}

	r, ok := ratio(list.okRate(), combinedOKRate(staticA, staticB))
	rep.figure("browse_vs_static", r, ok, 2)
	r, ok = ratio(checkoutSat.okRate(), combinedOKRate(pgA, pgB))
	rep.figure("checkout_vs_pgbench", r, ok, 2)
	// An external server's CPU is not seen, so its per-core figures would
	// flatter it.
	own := st.procs.server > 0 && st.procs.postmaster > 0
	r, ok = ratio(perCore(list, Summary{}), perCore(staticA, staticB))
	rep.figure("browse_vs_static_per_core", r, ok && own, 2)
	rep.figure("wrk_list_vs_static", wrkFigure, wrkOK, 2)
	r, ok = ratio(perCore(checkoutSat, Summary{}), perCore(pgA, pgB))
	rep.figure("checkout_vs_pgbench_per_core", r, ok && own, 2)
	// CPU per request, where the time goes: the server's and PostgreSQL's
	// share of an order at saturation, beside PostgreSQL's for the same
	// SQL under pgbench, and the server's for a catalogue read.
	serverPerOrder, serverOK := cpuPerRequest(serverCPU, checkoutSat)
	rep.figure("checkout_server_us_per_order", serverPerOrder, serverOK && own, 0)
	v, ok := cpuPerRequest(postgresCPU, checkoutSat)
	rep.figure("checkout_postgres_us_per_order", v, ok && own, 0)
	pgPerTx, pgOK := cpuPerRequest(postgresCPU, pgA, pgB)
	rep.figure("pgbench_postgres_us_per_tx", pgPerTx, pgOK && own, 0)
	// The server's CPU per order against PostgreSQL's for the order's SQL
	// in the same run: both move with the machine's speed, the ratio less.
	r, ok = ratio(serverPerOrder, pgPerTx)
	rep.figure("checkout_server_cpu_vs_pgbench", r, ok && own, 2)
	v, ok = cpuPerRequest(serverCPU, browseSat)
	rep.figure("browse_server_us_per_request", v, ok && own, 0)
	// The server's CPU per catalogue list against the static anchor's per
	// answer of the same bytes: what everything the server does beyond
	// plain net/http costs, whichever side the load generator holds back.
	// (ratio is false where either side is unknown: cpuPerRequest's 0.)
	listPer, _ := cpuPerRequest(serverCPU, list)
	staticPer, _ := cpuPerRequest(serverCPU, staticA, staticB)
	r, ok = ratio(listPer, staticPer)
	rep.figure("list_server_cpu_vs_static", r, ok && own, 2)
	// WAL per order, and how often the cluster's settings would
	// checkpoint while orders come at the saturated rate: the figure
	// max_wal_size is sized by.
	walPerOrder, walOK := walPerRequest(checkoutSat)
	rep.figure("checkout_wal_bytes_per_order", walPerOrder, walOK, 0)
	v, ok = walPerRequest(pgA, pgB)
	rep.figure("pgbench_wal_bytes_per_tx", v, ok, 0)
	cs, csOK := wal.checkpoints(ctx)
	every := cs.interval(walPerOrder * checkoutSat.okRate())
	rep.figure("checkpoint_every_s_at_saturation", every.Seconds(), walOK && csOK, 0)
	other, ok := meanOtherCores(rep.Steps)
	rep.figure("other_cpu_cores_mean", other, ok, 2)
	rep.figure("get_p99_ms_at_half_rate", getHalf.Latency.P99, true, 2)
	rep.figure("static_p99_ms_at_half_rate", staticHalf.Latency.P99, true, 2)
	rep.figure("post_p99_ms_at_half_rate", postHalf.Latency.P99, true, 2)
	rep.figure("pgbench_p99_ms_at_half_rate", pgHalf.Latency.P99, len(pgHalf.Timeline) > 0, 2)
	rep.figure("get_p99_ms_at_half_rate_quiet", getHalf.QuietP99, getHalf.QuietWindows > 0, 2)
	rep.figure("post_p99_ms_at_half_rate_quiet", postHalf.QuietP99, postHalf.QuietWindows > 0, 2)
	rep.figure(fmt.Sprintf("c%d_errors", o.many), float64(many.Errors), true, 0)
	if st.logPath != "" {
		n, err := logErrors(st.logPath)
		rep.figure("server_log_errors", float64(n), err == nil, 0)
	}
	if st.pgLogPath != "" {
		b, err := os.ReadFile(st.pgLogPath)
		if err != nil {
			return err
		}
		attachEvents(rep.Steps, parsePostgresEvents(string(b)))
		fmt.Fprintln(stdout)
		printBackground(stdout, rep.Steps)
	}
	fmt.Fprintln(stdout)
	printFigures(stdout, rep.Figures)

	if err := writeJSON(o.out+".json", rep); err != nil {
		return err
	}
	f, err := os.Create(o.out + ".svg")
	if err != nil {
		return err
	}
	if err := writeSVG(f, rep.Steps); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s.json and %s.svg\n", o.out, o.out)
	if st.pgLogPath != "" {
		// Its checkpoints and autovacuum runs, with times, to set beside
		// the timeline of a step with a spike.
		if err := copyFile(st.pgLogPath, o.out+"-postgres.log"); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s-postgres.log\n", o.out)
	}
	return nil
}

// profileKinds are the server's profiles a profiled step saves: where CPU
// time went, and what was allocated (so bytes and allocations per request
// are the profile's totals over the step's requests).
var profileKinds = []struct{ endpoint, suffix string }{
	{"profile", ".cpu.prof"},
	{"allocs", ".allocs.prof"},
}

// saveProfile fetches a profile of the server (endpoint: a /debug/pprof
// name that takes seconds) from its admin listener, covering most of a step
// (a second short, so it ends before the step does).
func saveProfile(ctx context.Context, adminURL, endpoint string, d time.Duration, path string) error {
	secs := max(int((d-time.Second)/time.Second), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", adminURL, endpoint, secs), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFile copies the file at from to a new file at to.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// toolStep is the step of an anchor an outside tool ran (pgbench, wrk)
// between the marks before and after: its counts, and the CPU of the
// processes plus the tool's own.
func toolStep(name, target string, clients int, before, after cpuMark, r toolRun) Summary {
	return Summary{Name: name, Target: target, Clients: clients, Seconds: r.Seconds, Began: before.at,
		Requests: r.Requests, Throughput: r.Rate, Errors: r.Errors, MeanMS: r.MeanMS, ByStatus: map[string]int{},
		CPU: roundCPU(cpuBetween(before, after, r.CPU))}
}

// envList collects -server-env values.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

// Set takes one KEY=VALUE.
func (e *envList) Set(kv string) error {
	if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
		return fmt.Errorf("server-env %q: want KEY=VALUE", kv)
	}
	*e = append(*e, kv)
	return nil
}
