package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

// The scale benchmark (make bench-scale, -scale) asks whether what a
// request costs stays flat as the data grows. On one throwaway PostgreSQL
// (production's durability and deploy/README.md's settings, files on disk)
// it keeps three databases, all migrated by the server binary:
//
//	empty  as migrations leave it: the nine seed products, no orders
//	menu   the menu grown to -products by the server's `catalog import`
//	full   the menu, -orders orders with their items and -keys unexpired
//	       idempotency keys (scalefill.go)
//
// and runs the same steps against the large one and the small one in the
// same run, each side twice, alternately, so that a drift in what else
// the machine does weighs on both. It prints the steps, then "name: value"
// lines (named after the default sizes whatever the sizes are), then the
// plans PostgreSQL chose for the server's statements on the full database.

// scaleSizes are the sizes the benchmark fills to.
type scaleSizes struct {
	orders, products, keys int
}

// scaleDBs are the benchmark's databases.
const (
	dbEmpty = "scale_empty"
	dbMenu  = "scale_menu"
	dbFull  = "scale_full"
)

// scaleRun is one run of the scale benchmark: its cluster, its work
// directory, the server binary and what it has measured so far.
type scaleRun struct {
	o       options
	root    string
	work    string
	bin     string
	cluster *pgtest.Cluster
	stdout  io.Writer
	stderr  io.Writer
	rep     *Report
	window  time.Duration
	servers []*server
}

func scaleTest(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if o.scale.products < 10 || o.scale.orders < 1 || o.scale.keys < 1 {
		return errors.New("-products must be at least 10, -orders and -keys at least 1")
	}
	work, err := os.MkdirTemp("", "minikart-scale-")
	if err != nil {
		return err
	}
	r := &scaleRun{o: o, root: root, work: work, stdout: stdout, stderr: stderr,
		rep: &Report{Started: time.Now().UTC()}, window: max(o.duration/20, 100*time.Millisecond)}
	defer func() {
		r.stopServers()
		if err == nil {
			_ = os.RemoveAll(work)
		} else {
			fmt.Fprintf(stderr, "bench-scale: the servers' logs are in %s\n", work)
		}
	}()
	loadBefore := loadAverage()
	if r.bin, err = r.serverBinary(ctx); err != nil {
		return err
	}
	settings, err := postgresSettings(o.postgres, memTotal())
	if err != nil {
		return err
	}
	settings = append(settings, "max_connections=500")
	fmt.Fprintf(stderr, "starting a throwaway PostgreSQL (files on disk): %s\n", strings.Join(settings, " "))
	if r.cluster, err = pgtest.StartDurable(ctx, true, settings...); err != nil {
		return fmt.Errorf("start PostgreSQL: %w (%s)", err, pgtest.InstallHint)
	}
	defer func() {
		if err := r.cluster.Stop(); err != nil {
			fmt.Fprintln(stderr, "bench-scale: stop PostgreSQL:", err)
		}
	}()
	if !o.freshWAL {
		if _, err := recycleWAL(ctx, r.cluster.URL("postgres")); err != nil {
			return err
		}
	}
	if err := r.fill(ctx); err != nil {
		return err
	}
	if err := r.measure(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "orders: %d\nproducts: %d\nkeys: %d\n", o.scale.orders, o.scale.products, o.scale.keys)
	fmt.Fprintf(stdout, "load_avg_before: %s\nload_avg_after: %s\n", loadBefore, loadAverage())
	printFigures(stdout, r.rep.Figures)
	return r.plans(ctx)
}

// serverBinary is -bin, or a build of the checkout when it is empty.
func (r *scaleRun) serverBinary(ctx context.Context) (string, error) {
	if r.o.bin != "" {
		return filepath.Abs(r.o.bin)
	}
	return buildServer(ctx, r.root, r.work, r.stderr)
}

// command runs the server binary's command args on database name, as an
// operator would, and returns its output.
func (r *scaleRun) command(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), "MINIKART_ENV=production", "DATABASE_URL="+r.cluster.URL(name),
		"MINIKART_AUTH_API_KEYS="+benchKeyID+":"+apiKey, "MINIKART_SERVER_PUBLIC_URL=http://127.0.0.1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("minikart %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (r *scaleRun) db(name string) (*sqlx.DB, error) {
	return sqlx.Open("pgx", r.cluster.URL(name))
}

// fill makes the three databases and times what filling them took.
func (r *scaleRun) fill(ctx context.Context) error {
	sz := r.o.scale
	began := time.Now()
	if err := r.cluster.CreateDatabase(ctx, dbEmpty); err != nil {
		return err
	}
	if _, err := r.command(ctx, dbEmpty, "migrate", "up"); err != nil {
		return err
	}
	for _, name := range []string{dbMenu} {
		if _, err := r.cluster.Query(ctx, "postgres", "CREATE DATABASE "+name+" TEMPLATE "+dbEmpty); err != nil {
			return err
		}
	}
	// The menu grows the way an operator grows it: by catalog import.
	menuFile := filepath.Join(r.work, "menu.csv")
	if err := writeMenuCSV(menuFile, 10, sz.products); err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "importing %d products\n", sz.products-9)
	t := time.Now()
	if _, err := r.command(ctx, dbMenu, "catalog", "import", menuFile); err != nil {
		return err
	}
	imported := time.Since(t)
	r.rep.figure("import_100k_s", imported.Seconds(), true, 2)
	if _, err := r.cluster.Query(ctx, dbMenu, "VACUUM (ANALYZE) products"); err != nil {
		return err
	}
	if _, err := r.cluster.Query(ctx, "postgres", "CREATE DATABASE "+dbFull+" TEMPLATE "+dbMenu); err != nil {
		return err
	}
	full, err := r.db(dbFull)
	if err != nil {
		return err
	}
	defer full.Close()
	full.SetMaxOpenConns(fillWorkers + 1)
	fmt.Fprintf(r.stderr, "filling %d orders and %d idempotency keys\n", sz.orders, sz.keys)
	st, err := fillOrders(ctx, full, sz.orders, sz.keys, sz.products, time.Now(), r.stderr)
	if err != nil {
		return err
	}
	if _, err := r.cluster.Query(ctx, "postgres", "CHECKPOINT"); err != nil {
		return err
	}
	size, _ := r.cluster.Query(ctx, "postgres", "SELECT pg_size_pretty(pg_database_size('"+dbFull+"'))")
	fmt.Fprintf(r.stdout, "filled in %.0f s: import %.1f s, orders and items %.0f s, indexes %.0f s, keys %.0f s, vacuum %.0f s; full database %s\n",
		time.Since(began).Seconds(), imported.Seconds(), st.rows.Seconds(), st.indexes.Seconds(),
		st.keys.Seconds(), st.vacuum.Seconds(), size)
	r.rep.figure("fill_s", time.Since(began).Seconds(), true, 0)
	return nil
}

// scaleServer starts a server on database name with env on top of the
// benchmark's settings: its api key, no purge during the run (the purge
// step starts its own), the admin API's key.
func (r *scaleRun) scaleServer(ctx context.Context, name, dbURL string, env ...string) (*server, error) {
	base := []string{
		"MINIKART_AUTH_API_KEYS=" + benchKeyID + ":" + apiKey,
		"MINIKART_AUTH_ADMIN_KEYS=" + benchAdminKeyID + ":" + benchAdminKey,
		"MINIKART_DATABASE_MIGRATE_ON_START=false",
		"MINIKART_ORDERING_IDEMPOTENCY_PURGE_INTERVAL=24h",
		"MINIKART_ADMIN_PPROF=false",
	}
	srv, err := startServer(ctx, r.bin, r.root, dbURL, filepath.Join(r.work, name+".log"), r.stderr, append(base, env...)...)
	if err != nil {
		return nil, err
	}
	r.servers = append(r.servers, srv)
	return srv, nil
}

// The admin key the benchmark's servers accept, for the admin API's plans.
const (
	benchAdminKeyID = "benchadmin"
	benchAdminKey   = "scale-bench-admin"
)

func (r *scaleRun) stopServers() {
	for _, s := range r.servers {
		_ = s.stop()
	}
	r.servers = nil
}

// pair runs the step spec makes against the large database's server and
// the small one's, each twice for half the duration, alternately (large,
// small, small, large), before each what before does, and returns the
// large side's runs and the small side's. spec is given the server and the
// products its requests choose among: 1..largeN on the large side, 1..9
// on the small one.
func (r *scaleRun) pair(ctx context.Context, name string, large, small *server, largeN int, spec func(*server, int) attackSpec, before func() error) (l, s []Summary, err error) {
	for i, side := range []string{"large", "small", "small", "large"} {
		srv, n := large, largeN
		if side == "small" {
			srv, n = small, 9
		}
		sp := spec(srv, n)
		sp.name = fmt.Sprintf("%s-%s-%d", name, side, i/2+1)
		sp.target = "minikart"
		sp.duration = r.o.duration / 2
		if before != nil {
			if err := before(); err != nil {
				return nil, nil, err
			}
		}
		sm, err := r.step(ctx, sp, srv)
		if err != nil {
			return nil, nil, err
		}
		if side == "large" {
			l = append(l, sm)
		} else {
			s = append(s, sm)
		}
	}
	return l, s, nil
}

// step runs one HTTP step and prints it, with the WAL PostgreSQL wrote
// meanwhile.
func (r *scaleRun) step(ctx context.Context, spec attackSpec, srv *server) (Summary, error) {
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	wal, err := openWALMeter(r.cluster.URL("postgres"))
	if err != nil {
		return Summary{}, err
	}
	defer wal.close()
	wal0, ok0 := wal.position(ctx)
	s := attack(ctx, spec, r.o.maxRequests, r.window, r.procs(srv))
	if wal1, ok1 := wal.position(ctx); ok0 && ok1 {
		s.WALBytes = wal1 - wal0
	}
	if err := ctx.Err(); err != nil {
		return s, err
	}
	r.rep.Steps = append(r.rep.Steps, s)
	printStep(r.stdout, s)
	if s.WALBytes > 0 {
		fmt.Fprintf(r.stdout, "%16s wal bytes=%d\n", "", s.WALBytes)
	}
	return s, nil
}

// procs are srv's process and PostgreSQL's, for a step's CPU line.
func (r *scaleRun) procs(srv *server) procs {
	return procs{server: srv.pid, postmaster: postmasterPID(r.cluster.Dir)}
}

// rateRatio records name: the large side's success rate over the small
// side's, both sides' runs taken together.
func (r *scaleRun) rateRatio(name string, l, s []Summary) {
	v, ok := ratio(combinedOKRate(l[0], l[1]), combinedOKRate(s[0], s[1]))
	r.rep.figure(name, v, ok && noErrors(l, s), 2)
}

// noErrors is false when any of the steps had an answer other than 2xx: a
// rate of errors is not a rate of service.
func noErrors(steps ...[]Summary) bool {
	for _, ss := range steps {
		for _, s := range ss {
			if s.Errors > 0 {
				return false
			}
		}
	}
	return true
}

// measure runs the steps and records the figures.
func (r *scaleRun) measure(ctx context.Context) error {
	sz, c := r.o.scale, r.o.clients
	cached := "MINIKART_CATALOG_CACHE_TTL=1s"
	empty, err := r.scaleServer(ctx, "empty-cache", r.cluster.URL(dbEmpty), cached)
	if err != nil {
		return err
	}
	menu, err := r.scaleServer(ctx, "menu-cache", r.cluster.URL(dbMenu), cached)
	if err != nil {
		return err
	}
	full, err := r.scaleServer(ctx, "full-cache", r.cluster.URL(dbFull), cached)
	if err != nil {
		return err
	}
	for _, s := range []*server{empty, menu, full} {
		attack(ctx, attackSpec{name: "warmup", targeter: mixedTargeter(
			getTargeter(s.base+"/api/product?limit=5"), checkoutTargeter(s.base, apiKey, 9)), clients: 16, duration: r.o.warmup}, r.o.maxRequests, r.window, procs{})
	}
	fmt.Fprintf(r.stdout, "steps of %s, %d clients, each side twice for half of it, alternately\n", r.o.duration, c)

	// The catalogue: the same page of five products at 100,000 products
	// and at nine, so that the figure is what the catalogue's size costs,
	// not what a longer answer does (nor the shortcut of a page that holds
	// the whole catalogue, which only the small one has); and single
	// products.
	list := func(s *server, _ int) attackSpec {
		return attackSpec{targeter: getTargeter(s.base + "/api/product?limit=5"), clients: c}
	}
	product := func(s *server, n int) attackSpec {
		return attackSpec{targeter: productTargeter(s.base, n), clients: c}
	}
	order := func(s *server, n int) attackSpec {
		return attackSpec{targeter: checkoutTargeter(s.base, apiKey, n), clients: c}
	}
	l, s, err := r.pair(ctx, "list-cache", menu, empty, sz.products, list, nil)
	if err != nil {
		return err
	}
	r.rateRatio("list_100k_vs_9_cache", l, s)
	if l, s, err = r.pair(ctx, "product-cache", menu, empty, sz.products, product, nil); err != nil {
		return err
	}
	r.rateRatio("product_100k_vs_9_cache", l, s)
	if l, s, err = r.pair(ctx, "order-menu", menu, empty, sz.products, order, nil); err != nil {
		return err
	}
	r.rateRatio("order_100k_vs_9", l, s)

	// Checkout at 10 M orders: the same orders (products 1..9) on the full
	// database and the empty one, each step from a checkpoint, so that each
	// pays the full-page images of the pages it is first to change.
	checkpoint := func() error {
		_, err := r.cluster.Query(ctx, "postgres", "CHECKPOINT")
		return err
	}
	if l, s, err = r.pair(ctx, "checkout", full, empty, 9, order, checkpoint); err != nil {
		return err
	}
	r.rateRatio("checkout_10m_vs_empty", l, s)
	walL, okL := walPerRequest(l...)
	walS, okS := walPerRequest(s...)
	r.rep.figure("wal_bytes_per_order_10m", walL, okL, 0)
	r.rep.figure("wal_bytes_per_order_empty", walS, okS, 0)
	v, ok := ratio(walL, walS)
	r.rep.figure("wal_per_order_10m_vs_empty", v, ok && okL && okS, 2)

	// The purge of as many expired keys as there are live ones, while
	// orders come at half the full database's saturated rate, against the
	// same rate without a purge before and after.
	if err := r.purge(ctx, full, max(combinedOKRate(l[0], l[1])/2, 1)); err != nil {
		return err
	}
	r.stopServers()

	// The catalogue without the cache: every page from the database.
	emptyDB, err := r.scaleServer(ctx, "empty-nocache", r.cluster.URL(dbEmpty), "MINIKART_CATALOG_CACHE_TTL=0s")
	if err != nil {
		return err
	}
	menuDB, err := r.scaleServer(ctx, "menu-nocache", r.cluster.URL(dbMenu), "MINIKART_CATALOG_CACHE_TTL=0s")
	if err != nil {
		return err
	}
	if l, s, err = r.pair(ctx, "list-nocache", menuDB, emptyDB, sz.products, list, nil); err != nil {
		return err
	}
	r.rateRatio("list_100k_vs_9_nocache", l, s)
	if l, s, err = r.pair(ctx, "product-nocache", menuDB, emptyDB, sz.products, product, nil); err != nil {
		return err
	}
	r.rateRatio("product_100k_vs_9_nocache", l, s)
	r.stopServers()
	return r.firstLimitedOrder(ctx)
}

// purge measures order latency at rate while a server purges as many
// expired keys as -keys, for purgeWindow(duration) or until the purge ends,
// against the same rate without a purge for as long, half before and half
// after: windows of one length see alike the checkpoints and autovacuum
// runs that come every few minutes (with 5 s without a purge against the
// whole purge, minutes, the ratio read 1.6 to 2.7 at one setting).
func (r *scaleRun) purge(ctx context.Context, full *server, rate float64) error {
	spec := func(name string, d time.Duration) attackSpec {
		return attackSpec{name: name, target: "minikart", targeter: checkoutTargeter(full.base, apiKey, 9),
			clients: r.o.clients * 4, rate: rate, duration: d}
	}
	window := purgeWindow(r.o.duration)
	idleA, err := r.step(ctx, spec("purge-idle-1", window/2), full)
	if err != nil {
		return err
	}
	db, err := r.db(dbFull)
	if err != nil {
		return err
	}
	defer db.Close()
	k := r.o.scale.keys
	t := time.Now()
	if err := fillKeys(ctx, db, r.o.scale.keys+1, k, time.Now().Add(-48*time.Hour), time.Hour, r.o.scale.orders, "expired-"); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) idempotency_keys`); err != nil {
		return err
	}
	fmt.Fprintf(r.stderr, "wrote %d expired idempotency keys (%.0f s)\n", k, time.Since(t).Seconds())
	// The purge comes from a server of its own that purges every second;
	// the orders go to the one that served the steps so far.
	purgeCtx, stopOrders := context.WithCancel(ctx)
	defer stopOrders()
	began := time.Now()
	done := make(chan time.Duration, 1)
	go func() {
		defer stopOrders()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-purgeCtx.Done():
				done <- 0
				return
			case <-tick.C:
			}
			var left bool
			if err := db.GetContext(purgeCtx, &left, `SELECT EXISTS (SELECT FROM idempotency_keys WHERE expires_at <= now())`); err == nil && !left {
				done <- time.Since(began)
				return
			}
		}
	}()
	purger, err := r.scaleServer(ctx, "full-purge", r.cluster.URL(dbFull), "MINIKART_ORDERING_IDEMPOTENCY_PURGE_INTERVAL=1s")
	if err != nil {
		return err
	}
	during := attack(purgeCtx, spec("purge", window), r.o.maxRequests, r.window, r.procs(full))
	stopOrders()
	took := <-done
	if err := ctx.Err(); err != nil {
		return err
	}
	printStep(r.stdout, during)
	_ = purger.stop()
	purged := time.Since(began)
	var left int
	if err := db.GetContext(ctx, &left, `SELECT count(*) FROM idempotency_keys WHERE expires_at <= now()`); err != nil {
		return err
	}
	deleted := k - left
	fmt.Fprintf(r.stderr, "purged %d of %d expired keys in %.0f s\n", deleted, k, purged.Seconds())
	idleB, err := r.step(ctx, spec("purge-idle-2", window/2), full)
	if err != nil {
		return err
	}
	idle := (idleA.Latency.P99 + idleB.Latency.P99) / 2
	r.rep.figure("purge_keys_per_s", float64(deleted)/purged.Seconds(), deleted > 0, 0)
	r.rep.figure("purge_s", took.Seconds(), took > 0, 1)
	r.rep.figure("purge_post_p99_ms", during.Latency.P99, deleted > 0, 2)
	r.rep.figure("idle_post_p99_ms", idle, true, 2)
	v, ok := ratio(during.Latency.P99, idle)
	r.rep.figure("purge_post_p99_vs_idle", v, ok && deleted > 0 && noErrors([]Summary{idleA, during, idleB}), 2)
	return nil
}

// purgeWindow is how long the purge step measures orders while a purge
// runs: six steps' worth (a minute at the default 10 s), as long again
// without one.
func purgeWindow(duration time.Duration) time.Duration { return 6 * duration }

// firstLimitedOrder starts a server on the full database whose rules give
// HAPPYHRS, used by a fifth of its orders, a max_redemptions for the first
// time. The moment it is ready it places an order without a coupon (the
// server's own first order, which opens its connections) and then a
// HAPPYHRS order: the first under the new limit, which bumps a counter
// started in the background, or waits on a count of the code's past
// orders.
func (r *scaleRun) firstLimitedOrder(ctx context.Context) error {
	srv, err := r.scaleServer(ctx, "full-limited", r.cluster.URL(dbFull), "MINIKART_CATALOG_CACHE_TTL=1s",
		"MINIKART_PROMO_RULES_CODES_HAPPYHRS_MAX_REDEMPTIONS=1000000000")
	if err != nil {
		return err
	}
	var took []float64
	for _, body := range []string{
		`{"items":[{"productId":"1","quantity":2}]}`,
		`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2}]}`,
		`{"couponCode":"HAPPYHRS","items":[{"productId":"2","quantity":1}]}`,
	} {
		t := time.Now()
		if err := placeOrder(ctx, srv.base, body); err != nil {
			return err
		}
		took = append(took, float64(time.Since(t).Microseconds())/1000)
	}
	fmt.Fprintf(r.stdout, "a new server's first order: %.2f ms; the first under a new limit: %.2f ms, the next %.2f ms\n", took[0], took[1], took[2])
	r.rep.figure("first_limited_order_ms", took[1], true, 2)
	r.stopServers()
	return nil
}

// placeOrder posts body as an order with a fresh Idempotency-Key and
// wants a 200.
func placeOrder(ctx context.Context, base, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/order", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api_key", apiKey)
	req.Header.Set("Idempotency-Key", uuid.NewString())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("order: %s: %s", res.Status, b)
	}
	return nil
}

// productTargeter asks for random products among 1..n.
func productTargeter(base string, n int) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, base+"/api/product/"+strconv.Itoa(rand.IntN(n)+1)
		return nil
	}
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
