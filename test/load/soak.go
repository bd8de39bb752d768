package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/jmoiron/sqlx"

	"minikart/test/internal/harness"
)

// soakEvery is how often the soak samples the server.
const soakEvery = 10 * time.Second

// soakIdleTimeout is the soak server's keep-alive idle limit: after the
// load the server closes the clients' idle connections itself, so its
// goroutines and descriptors can come back to their baseline in seconds.
const soakIdleTimeout = 5 * time.Second

// soakTables are the tables whose sizes the soak follows.
var soakTables = []string{"products", "orders", "order_items", "idempotency_keys", "coupon_redemptions"}

// resources is one sample of what the server holds.
type resources struct {
	at         time.Duration // since the soak load began
	rssKiB     int64
	goroutines int64
	fds        int64
	poolConns  int64 // open connections of the primary pool
	maxConns   int64
	tables     map[string]int64 // bytes, indexes and TOAST included
	orders     int64
}

// soakTest runs mixed load at half the saturated rate for o.duration,
// samples the server every soakEvery, prints first and last values, and
// fails when something grows without bound: goroutines or descriptors not
// back to the baseline once the load stops, RSS more than 20 % over its
// value at minute 2, pool connections over the pool's maximum, products
// growing, or the other tables growing faster than the orders they store.
func soakTest(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "minikart-soak-")
	if err != nil {
		return err
	}
	// Background coupon loading: the set is built while the server already
	// serves, so the soak covers a build beside live traffic too.
	pg, err := newPostgresSetup(o, memTotal())
	if err != nil {
		return err
	}
	st, err := startStack(ctx, root, work, stderr, pg, append([]string{"MINIKART_SERVER_IDLE_TIMEOUT=" + soakIdleTimeout.String(), "MINIKART_PROMO_LOAD=background"}, o.serverEnv...)...)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.stop(); err != nil {
			fmt.Fprintln(stderr, "soak: stop:", err)
		}
		_ = os.RemoveAll(work)
	}()
	if st.procs.server == 0 || st.dbURL == "" {
		return errors.New("soak needs its own server and database (BASE_URL is not supported)")
	}
	db, err := sqlx.Open("pgx", st.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	mx := &metricsReader{urls: []string{st.base + "/metrics", st.adminURL + "/metrics"},
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	take := func(at time.Duration) (resources, error) { return sampleResources(ctx, st.procs.server, mx, db, at) }

	browse := browseTargeter(st.base)
	mixed := mixedTargeter(browse, checkoutTargeter(st.base, st.apiKey, 9))
	window := soakEvery
	fmt.Fprintf(stderr, "warming up for %s\n", o.warmup)
	attack(ctx, attackSpec{name: "warmup", targeter: mixed, clients: 16, duration: o.warmup}, o.maxRequests, window, st.procs)
	probe := min(max(o.duration/20, 5*time.Second), 20*time.Second)
	sat := attack(ctx, attackSpec{name: "saturation", target: "minikart", targeter: mixed, clients: o.clients, duration: probe}, o.maxRequests, window, st.procs)
	if err := ctx.Err(); err != nil {
		return err
	}
	printStep(stdout, sat)
	rate := max(sat.okRate()/2, 1)
	if err := settle(ctx); err != nil {
		return err
	}
	baseline, err := take(0)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "soak: mixed load at %.0f requests/s (half of %.0f) for %s, sampled every %s\n", rate, sat.okRate(), o.duration, soakEvery)
	began := time.Now()
	samples := []resources{baseline}
	sampleErr := make(chan error, 1)
	stopSampling := make(chan struct{})
	sampled := make(chan []resources, 1)
	go func() {
		var got []resources
		tick := time.NewTicker(soakEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				r, err := take(time.Since(began))
				if err != nil {
					select {
					case sampleErr <- err:
					default:
					}
					continue
				}
				got = append(got, r)
			case <-stopSampling:
				sampled <- got
				return
			}
		}
	}()
	load := attack(ctx, attackSpec{name: "soak", target: "minikart", targeter: mixed, clients: o.clients * 4, rate: rate, duration: o.duration},
		int(rate*o.duration.Seconds())+1000, window, st.procs)
	close(stopSampling)
	samples = append(samples, <-sampled...)
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case err := <-sampleErr:
		return fmt.Errorf("sample: %w", err)
	default:
	}
	printStep(stdout, load)
	if err := settle(ctx); err != nil {
		return err
	}
	after, err := take(time.Since(began))
	if err != nil {
		return err
	}
	problems := judgeSoak(baseline, samples, after, load)
	printSoak(stdout, baseline, samples, after)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "FAIL:", p)
		}
		return fmt.Errorf("%d resources grew without bound", len(problems))
	}
	fmt.Fprintln(stdout, "soak: ok, nothing grew without bound")
	return nil
}

// settle waits until the server has closed the load's idle keep-alive
// connections (twice its idle timeout).
func settle(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2*soakIdleTimeout + time.Second):
		return nil
	}
}

// Slack of the after-load checks: a few goroutines and descriptors come and
// go with housekeeping (the sampler's own request, pool health checks).
const (
	goroutineSlack = 10
	fdSlack        = 5
	rssGrowth      = 1.20
	// bytesPerOrder bounds how much any table may grow per stored order.
	bytesPerOrder = 8 << 10
)

// judgeSoak lists every resource that grew without bound.
func judgeSoak(baseline resources, during []resources, after resources, load Summary) []string {
	var out []string
	if after.goroutines > baseline.goroutines+goroutineSlack {
		out = append(out, fmt.Sprintf("goroutines %d after the load, baseline %d", after.goroutines, baseline.goroutines))
	}
	// Descriptors other than the pool's connections: the pool may keep
	// what the load opened (up to max_conns) for max_conn_idle_time.
	if own, base := after.fds-after.poolConns, baseline.fds-baseline.poolConns; own > base+fdSlack {
		out = append(out, fmt.Sprintf("open descriptors besides pool connections %d after the load, baseline %d", own, base))
	}
	if ref, ok := atMinute2(during); ok {
		last := during[len(during)-1]
		if float64(last.rssKiB) > rssGrowth*float64(ref.rssKiB) {
			out = append(out, fmt.Sprintf("RSS %d KiB at the end, %d KiB at %s: more than 20 %% growth", last.rssKiB, ref.rssKiB, ref.at.Round(time.Second)))
		}
	}
	for _, r := range append(during, after) {
		if r.maxConns > 0 && r.poolConns > r.maxConns {
			out = append(out, fmt.Sprintf("%d pool connections at %s, max %d", r.poolConns, r.at.Round(time.Second), r.maxConns))
		}
	}
	orders := after.orders - baseline.orders
	for _, t := range soakTables {
		grew := after.tables[t] - baseline.tables[t]
		switch {
		case t == "products" && grew > 0:
			out = append(out, fmt.Sprintf("products grew %d bytes under a load that only reads them", grew))
		case orders > 0 && grew/orders > bytesPerOrder:
			out = append(out, fmt.Sprintf("%s grew %d bytes per stored order", t, grew/orders))
		}
	}
	if n := load.ByStatus["0"] + count5xx(load.ByStatus); n > 0 {
		out = append(out, fmt.Sprintf("%d requests failed with 5xx or no answer at half the saturated rate", n))
	}
	return out
}

// atMinute2 is the sample RSS is judged against: the first at or after
// minute 2, or the middle one in a shorter soak.
func atMinute2(during []resources) (resources, bool) {
	if len(during) < 3 {
		return resources{}, false
	}
	for _, r := range during[1:] {
		if r.at >= 2*time.Minute {
			return r, r.at < during[len(during)-1].at
		}
	}
	return during[len(during)/2], true
}

func count5xx(by map[string]int) int {
	n := 0
	for code, c := range by {
		if strings.HasPrefix(code, "5") {
			n += c
		}
	}
	return n
}

// printSoak prints the first and last sample of each figure, with the
// baseline before the load and the value once it ended.
func printSoak(w io.Writer, baseline resources, during []resources, after resources) {
	first, last := during[min(1, len(during)-1)], during[len(during)-1]
	fmt.Fprintf(w, "\n%-28s %12s %12s %12s %12s\n", "resource", "baseline", "first", "last", "after")
	row := func(name string, f func(resources) int64) {
		fmt.Fprintf(w, "%-28s %12d %12d %12d %12d\n", name, f(baseline), f(first), f(last), f(after))
	}
	row("rss_kib", func(r resources) int64 { return r.rssKiB })
	row("goroutines", func(r resources) int64 { return r.goroutines })
	row("open_fds", func(r resources) int64 { return r.fds })
	row("pool_conns", func(r resources) int64 { return r.poolConns })
	row("orders", func(r resources) int64 { return r.orders })
	for _, t := range soakTables {
		row("bytes_"+t, func(r resources) int64 { return r.tables[t] })
	}
	if ref, ok := atMinute2(during); ok {
		fmt.Fprintf(w, "rss at %s: %d KiB; last %d KiB (%+.1f %%)\n", ref.at.Round(time.Second), ref.rssKiB, last.rssKiB,
			100*(float64(last.rssKiB)/float64(ref.rssKiB)-1))
	}
	fmt.Fprintf(w, "%d samples, first at %s, last at %s\n", len(during)-1, first.at.Round(time.Second), last.at.Round(time.Second))
}

// sampleResources reads the server's RSS and descriptors from /proc, its
// goroutines and pool from /metrics, and the table sizes from PostgreSQL.
func sampleResources(ctx context.Context, pid int, mx *metricsReader, db *sqlx.DB, at time.Duration) (resources, error) {
	r := resources{at: at, tables: map[string]int64{}}
	var err error
	if r.rssKiB, err = rssKiB(pid); err != nil {
		return r, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return r, err
	}
	r.fds = int64(len(fds))
	m, err := mx.read(ctx)
	if err != nil {
		return r, err
	}
	r.goroutines, r.poolConns, r.maxConns = int64(m["go_goroutines"]), int64(m["db_pool_total_conns"]), int64(m["db_pool_max_conns"])
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, t := range soakTables {
		var n int64
		if err := db.GetContext(ctx, &n, `SELECT pg_total_relation_size($1::regclass)`, t); err != nil {
			return r, fmt.Errorf("size of %s: %w", t, err)
		}
		r.tables[t] = n
	}
	if err := db.GetContext(ctx, &r.orders, `SELECT count(*) FROM orders`); err != nil {
		return r, err
	}
	return r, nil
}

// rssKiB reads VmRSS from /proc/<pid>/status.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// metricsReader reads unlabelled samples from the first /metrics that
// answers (public in development and test, the admin listener elsewhere).
type metricsReader struct {
	urls   []string
	client *http.Client
}

func (m *metricsReader) read(ctx context.Context) (map[string]float64, error) {
	var errs []error
	for _, u := range m.urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		res, err := m.client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			errs = append(errs, fmt.Errorf("%s: %s", u, res.Status))
			continue
		}
		out, err := parseMetrics(res.Body)
		res.Body.Close()
		return out, err
	}
	return nil, fmt.Errorf("no /metrics: %w", errors.Join(errs...))
}

// parseMetrics reads the unlabelled samples of a Prometheus text exposition.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}
