//go:build cluster

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"minikart/test/internal/pgtest"
)

// couponLimit caps the limited coupon's redemptions in the chaos run, low
// enough that the load reaches it.
const couponLimit = 300

// TestChaos starts the whole topology (make test-cluster), puts orders and
// catalogue reads on it through nginx, and meanwhile crashes what crashes
// in production, one fault after the other: the PostgreSQL primary's node
// (Patroni and its PostgreSQL, kill -9: Patroni promotes the synchronous
// standby by itself), a minikart instance, an etcd member, HAProxy, and the
// new primary's node. The database judges afterwards: exactly one order per
// key, every 200 names its stored order with the items and coupon asked,
// no order without its key, the coupon's counter equal to its orders.
func TestChaos(t *testing.T) {
	root := repoRoot(t)
	dir := pgtest.StateDir(root, "cluster-chaos")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if old, err := newTopology(dir, root); err == nil {
		_ = old.down(os.Stderr) // a previous run's, interrupted
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	topo, err := newTopology(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	// CLUSTER_DB_ROUTE=multihost: the instances find the primary by a
	// multi-host URL instead of HAProxy, to compare the two.
	topo.multiHost = os.Getenv("CLUSTER_DB_ROUTE") == "multihost"
	t.Logf("instances reach the primary through %s", topo.databaseURL()[strings.IndexByte(topo.databaseURL(), '@')+1:])
	topo.serverEnv = []string{
		fmt.Sprintf("MINIKART_PROMO_RULES_CODES_%s_MAX_REDEMPTIONS=%d", limitedCoupon, couponLimit),
		// Every client here is one address with one api key: the per-client
		// limits would answer 429 to the test rather than to an abuser.
		"MINIKART_SERVER_RATE_LIMIT_ENABLED=false",
		"MINIKART_ORDERING_RATE_LIMIT_ENABLED=false",
	}
	// Each Patroni node reaches etcd through links of its own, so that
	// the primary's can be cut (partition.go).
	links, err := startEtcdLinks()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(links.close) // after the cluster is down
	topo.viaLinks = true
	t.Cleanup(func() {
		if err := topo.down(os.Stderr); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
		if t.Failed() {
			t.Logf("the cluster's logs stay in %s", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
	})
	started := time.Now()
	if err := topo.up(ctx, testWriter{t}); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster up in %v", time.Since(started).Round(time.Second))

	l := startLoad(publicURL(), topo.sec.APIKey, 8, 2)
	c := &chaos{t: t, ctx: ctx, topo: topo, load: l, links: links}
	sampled := make(chan int)
	stopSampling := make(chan struct{})
	go func() { sampled <- peakConnections(topo, stopSampling) }()
	c.pause(8 * time.Second)

	c.postgresFailover("PostgreSQL primary killed")
	c.instanceCrash(serverName(2))
	c.etcdMemberStopped()
	c.haproxyRestart()
	c.primaryPartitioned()
	c.postgresFailover("new primary killed (another failover)")
	c.pause(5 * time.Second)

	attempts, keys := l.finish()
	close(stopSampling)
	c.peakConns = <-sampled
	c.judge(attempts, keys)
}

// peakConnections samples, every half second until stop, the client
// connections to the application's database on the primary of the moment,
// and returns the most seen.
func peakConnections(topo *topology, stop <-chan struct{}) int {
	peak := 0
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-stop:
			return peak
		case <-time.After(500 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if conn == nil {
			conn, _ = pgx.Connect(ctx, topo.superuserURL(hostPort(haproxyPort), "postgres"))
		}
		var n int
		if conn != nil {
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", database).Scan(&n); err != nil {
				conn.Close(ctx)
				conn = nil
			}
		}
		cancel()
		peak = max(peak, n)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// chaos runs the faults and keeps, for each, how long orders took to
// succeed again and the time it disturbed.
type chaos struct {
	t       *testing.T
	ctx     context.Context
	topo    *topology
	load    *load
	faults  []fault
	windows []window
	// peakConns is the most client connections seen on the primary.
	peakConns int
	links     *etcdLinks
	// partitioned is the node cut off from etcd, whose view is stale.
	partitioned string
}

type fault struct {
	name string
	// back is the time from the fault to the first order answered 200
	// among those sent after it; goal is what it should stay within.
	back, goal time.Duration
	note       string
}

func (c *chaos) pause(d time.Duration) {
	select {
	case <-c.ctx.Done():
	case <-time.After(d):
	}
}

// recovered waits for the first order sent after the fault had taken
// effect (now: the caller has seen it done) to get a 200 and returns how
// long after at, when the fault began, its answer came.
func (c *chaos) recovered(at time.Time) time.Duration {
	return c.recoveredSince(at, time.Now())
}

// recoveredSince waits for the first order sent after done to get a 200
// and returns how long after at its answer came.
func (c *chaos) recoveredSince(at, done time.Time) time.Duration {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok, found := c.load.firstOrderOK(done); found {
			return ok.Sub(at)
		}
	}
	c.t.Errorf("no order succeeded within 60 s of %v", at)
	return time.Minute
}

func (c *chaos) leader() string {
	var name string
	err := poll(c.ctx, 30*time.Second, func() error {
		ms, err := patroniMembers(c.partitioned)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Role == "leader" && m.State == "running" {
				name = m.Name
				return nil
			}
		}
		return fmt.Errorf("no leader in %+v", ms)
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return name
}

// postgresFailover kills the primary's node outright (Patroni and its
// PostgreSQL, as a crash of its machine), measures until orders succeed
// again, then brings the node back, as a replica of the new primary.
func (c *chaos) postgresFailover(name string) {
	c.t.Helper()
	old := c.leader()
	at := time.Now()
	if err := c.topo.kill(old); err != nil {
		c.t.Fatal(err)
	}
	back := c.recovered(at)
	var promoted string
	if err := poll(c.ctx, 30*time.Second, func() error {
		promoted = c.leader()
		if promoted == old {
			return fmt.Errorf("%s still leads", old)
		}
		return nil
	}); err != nil {
		c.t.Fatal(err)
	}
	c.pause(2 * time.Second)
	p, _ := c.topo.part(old)
	if err := c.topo.start(p); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.topo.waitPatroni(c.ctx, pgNodes); err != nil {
		c.t.Fatalf("%s did not rejoin: %v", old, err)
	}
	c.add(fault{name: name, back: back, goal: 10 * time.Second,
		note: fmt.Sprintf("%s killed, %s promoted; %s back as a replica after %v", old, promoted, old, time.Since(at).Round(100*time.Millisecond))}, at)
}

// instanceCrash kills one minikart instance and restarts it.
func (c *chaos) instanceCrash(name string) {
	at := time.Now()
	if err := c.topo.kill(name); err != nil {
		c.t.Fatal(err)
	}
	back := c.recovered(at)
	c.pause(time.Second)
	p, _ := c.topo.part(name)
	if err := c.topo.start(p); err != nil {
		c.t.Fatal(err)
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(name, "server-"))
	if err := waitHTTP(c.ctx, fmt.Sprintf("http://%s/readyz", hostPort(serverPort+i)), time.Minute); err != nil {
		c.t.Fatalf("%s did not come back: %v", name, err)
	}
	c.add(fault{name: "minikart instance killed", back: back, goal: time.Second,
		note: fmt.Sprintf("%s killed, ready again %v later", name, time.Since(at).Round(100*time.Millisecond))}, at)
}

// etcdMemberStopped stops etcd's leader for longer than Patroni's ttl: the
// other two keep the quorum, and the primary its leader key.
func (c *chaos) etcdMemberStopped() {
	name := etcdLeader(c.t)
	before := c.leader()
	at := time.Now()
	if err := c.topo.stop(name, 10*time.Second); err != nil {
		c.t.Fatal(err)
	}
	back := c.recovered(at)
	c.pause(12 * time.Second)
	if now := c.leader(); now != before {
		c.t.Errorf("with %s stopped, the primary moved from %s to %s", name, before, now)
	}
	p, _ := c.topo.part(name)
	if err := c.topo.start(p); err != nil {
		c.t.Fatal(err)
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(name, "etcd-"))
	if err := c.topo.waitEtcd(c.ctx, i); err != nil {
		c.t.Fatal(err)
	}
	c.add(fault{name: "etcd member stopped", back: back, goal: time.Second,
		note: fmt.Sprintf("%s (etcd's leader) stopped for 12 s; the primary stayed %s", name, before)}, at)
}

// haproxyRestart kills HAProxy and starts it again at once.
func (c *chaos) haproxyRestart() {
	at := time.Now()
	if err := c.topo.kill("haproxy"); err != nil {
		c.t.Fatal(err)
	}
	if err := c.topo.start(c.topo.haproxy()); err != nil {
		c.t.Fatal(err)
	}
	back := c.recovered(at)
	c.add(fault{name: "HAProxy killed and restarted", back: back, goal: 10 * time.Second}, at)
}

// primaryPartitioned cuts the primary's node off from etcd while it runs,
// its clients and its replication untouched: its Patroni cannot renew the
// leader key and demotes it to read-only, the leader key lapses and the
// synchronous standby takes over. An order committed on the old primary
// was acknowledged by that standby, so none is lost. Then the partition
// heals and the old node follows the new primary.
func (c *chaos) primaryPartitioned() {
	c.t.Helper()
	old := c.leader()
	i, _ := strconv.Atoi(strings.TrimPrefix(old, "pg-"))
	at := time.Now()
	c.links.partition(old)
	c.partitioned = old
	// The cut-off primary serves on until its Patroni gives up on etcd
	// and demotes it (HAProxy's check then fails); the orders' outage
	// starts there, and ends with the first order placed on the new one.
	var demoted, promotedAt time.Duration
	var promoted string
	if err := poll(c.ctx, 30*time.Second, func() error {
		if demoted == 0 {
			if _, err := get(fmt.Sprintf("http://%s/primary", hostPort(patroniPort+i))); err != nil {
				demoted = time.Since(at)
			}
		}
		if promotedAt == 0 {
			if ms, err := patroniMembers(old); err == nil {
				for _, m := range ms {
					if m.Role == "leader" && m.State == "running" && m.Name != old {
						promoted, promotedAt = m.Name, time.Since(at)
					}
				}
			}
		}
		if demoted == 0 || promotedAt == 0 {
			return fmt.Errorf("%s demoted after %v, a new leader after %v", old, demoted, promotedAt)
		}
		return nil
	}); err != nil {
		c.t.Fatal(err)
	}
	back := c.recoveredSince(at, at.Add(demoted))
	c.pause(2 * time.Second)
	c.links.heal(old)
	c.partitioned = ""
	if _, err := c.topo.waitPatroni(c.ctx, pgNodes); err != nil {
		c.t.Fatalf("%s did not rejoin after the partition healed: %v", old, err)
	}
	c.add(fault{name: "primary partitioned from etcd", back: back, goal: 10 * time.Second,
		note: fmt.Sprintf("%s cut off from every etcd member: demoted after %v, %s promoted after %v; healed, %s a replica again after %v",
			old, demoted.Round(100*time.Millisecond), promoted, promotedAt.Round(100*time.Millisecond), old, time.Since(at).Round(100*time.Millisecond))}, at)
}

// add keeps the fault and its window: from the fault until things settled,
// plus a second.
func (c *chaos) add(f fault, at time.Time) {
	c.faults = append(c.faults, f)
	c.windows = append(c.windows, window{at, time.Now().Add(time.Second)})
	c.t.Logf("fault: %s: orders back after %v; %s", f.name, f.back.Round(time.Millisecond), f.note)
	c.pause(3 * time.Second)
}

// etcdLeader names the etcd member that leads now.
func etcdLeader(t *testing.T) string {
	t.Helper()
	for i := 1; i <= etcdMembers; i++ {
		res, err := http.Post(fmt.Sprintf("http://%s/v3/maintenance/status", hostPort(etcdClientPort+i)), "application/json", strings.NewReader("{}"))
		if err != nil {
			continue
		}
		var s struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		err = json.NewDecoder(res.Body).Decode(&s)
		res.Body.Close()
		if err == nil && s.Leader != "" && s.Leader == s.Header.MemberID {
			return etcdName(i)
		}
	}
	t.Fatal("no etcd member says it leads")
	return ""
}

// judge compares what the clients saw with what the database holds.
func (c *chaos) judge(attempts []attempt, keys []keyResult) {
	t := c.t
	ctx := c.ctx
	db, err := pgx.Connect(ctx, c.topo.superuserURL(hostPort(haproxyPort), database))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	keyOrder := map[string]string{} // Idempotency-Key -> order id
	rows, _ := db.Query(ctx, "SELECT key, order_id::text FROM idempotency_keys")
	for rows.Next() {
		var k, id string
		if err := rows.Scan(&k, &id); err != nil {
			t.Fatal(err)
		}
		keyOrder[k] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	type stored struct {
		coupon string
		items  []item
	}
	orders := map[string]*stored{}
	rows, _ = db.Query(ctx, "SELECT id::text, coalesce(coupon_code, '') FROM orders")
	for rows.Next() {
		var id, coupon string
		if err := rows.Scan(&id, &coupon); err != nil {
			t.Fatal(err)
		}
		orders[id] = &stored{coupon: coupon}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, _ = db.Query(ctx, "SELECT order_id::text, product_id, quantity FROM order_items ORDER BY order_id, position")
	for rows.Next() {
		var id string
		var product int64
		var qty int
		if err := rows.Scan(&id, &product, &qty); err != nil {
			t.Fatal(err)
		}
		if o := orders[id]; o != nil {
			o.items = append(o.items, item{ProductID: strconv.FormatInt(product, 10), Quantity: qty})
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var redeemed int64
	if err := db.QueryRow(ctx, "SELECT coalesce(sum(redeemed), 0) FROM coupon_redemptions WHERE upper(code) = $1", limitedCoupon).Scan(&redeemed); err != nil {
		t.Fatal(err)
	}

	// Orders without a key, and keys sharing an order.
	withKey := map[string]int{}
	for _, id := range keyOrder {
		withKey[id]++
	}
	duplicates := 0
	for id := range orders {
		if withKey[id] != 1 {
			duplicates++
			if duplicates <= 5 {
				t.Errorf("order %s has %d idempotency keys, want 1", id, withKey[id])
			}
		}
	}
	// Every key's answers.
	final := map[string]string{}
	lost, placed, exhausted, gaveUp, couponOrders := 0, 0, 0, 0, 0
	for _, k := range keys {
		switch {
		case k.status == 200:
			placed++
			final[k.key] = k.orderID
			o := orders[k.orderID]
			if o == nil || keyOrder[k.key] != k.orderID {
				lost++
				t.Errorf("key %s: answered 200 with order %s, but the database has %v for it (key -> %q)", k.key, k.orderID, o != nil, keyOrder[k.key])
				continue
			}
			if !strings.EqualFold(o.coupon, k.body.CouponCode) || fmt.Sprint(o.items) != fmt.Sprint(k.body.Items) {
				t.Errorf("order %s holds %v coupon %q, asked %v coupon %q", k.orderID, o.items, o.coupon, k.body.Items, k.body.CouponCode)
			}
			if o.coupon != "" {
				couponOrders++
			}
			if k.replayID != "" && k.replayID != k.orderID {
				t.Errorf("key %s: replayed after its 200 (order %s), got %s", k.key, k.orderID, k.replayID)
			}
		case k.status == 422 && k.code == "PROMO_EXHAUSTED" && k.body.CouponCode != "":
			exhausted++
			if id, ok := keyOrder[k.key]; ok {
				t.Errorf("key %s: answered %s, but order %s is stored under it", k.key, k.code, id)
			}
		case k.status == 0:
			gaveUp++
			t.Errorf("key %s: %s", k.key, k.code)
		default:
			t.Errorf("key %s: final answer %d %s", k.key, k.status, k.code)
		}
	}
	// Any 200 for a key names the key's one order; no 5xx but 503 and 504.
	retries, other5xx, readsOK, reads := 0, 0, 0, 0
	for _, a := range attempts {
		if a.kind == "retry" {
			retries++
		}
		if a.kind == "read" {
			reads++
			if a.status == 200 {
				readsOK++
			}
		} else if a.status == 200 && final[a.key] != "" && a.orderID != final[a.key] {
			duplicates++
			t.Errorf("key %s: answered 200 with orders %s and %s", a.key, a.orderID, final[a.key])
		}
		if a.status >= 500 && a.status != 503 && a.status != 504 {
			other5xx++
			if other5xx <= 5 {
				t.Errorf("%s %s: %d %s at %s", a.kind, a.key, a.status, a.code, a.sent.Format("15:04:05.000"))
			}
		}
	}
	if int64(couponOrders) != redeemed {
		t.Errorf("%s: counter %d, orders with it %d", limitedCoupon, redeemed, couponOrders)
	}
	if redeemed > couponLimit {
		t.Errorf("%s redeemed %d times, limit %d", limitedCoupon, redeemed, couponLimit)
	}
	if len(orders) != len(keyOrder) {
		t.Errorf("%d orders, %d idempotency keys", len(orders), len(keyOrder))
	}
	if placed == 0 {
		t.Fatal("no order was placed")
	}
	p99, quiet := p99Outside(attempts, c.windows)

	var b strings.Builder
	fmt.Fprintf(&b, "\nchaos figures\n")
	fmt.Fprintf(&b, "  orders placed (keys answered 200)     %d (stored orders %d; %s orders %d, counter %d, limit %d; %d answered PROMO_EXHAUSTED)\n",
		placed, len(orders), limitedCoupon, couponOrders, redeemed, couponLimit, exhausted)
	fmt.Fprintf(&b, "  requests                              %d orders and retries, %d catalogue reads (%d answered 200)\n", len(attempts)-reads, reads, readsOK)
	fmt.Fprintf(&b, "  retries                               %d\n", retries)
	fmt.Fprintf(&b, "  acknowledged lost                     %d\n", lost)
	fmt.Fprintf(&b, "  duplicates                            %d\n", duplicates)
	fmt.Fprintf(&b, "  5xx other than 503/504                %d\n", other5xx)
	fmt.Fprintf(&b, "  keys given up                         %d\n", gaveUp)
	for _, f := range c.faults {
		fmt.Fprintf(&b, "  %-37s orders back after %v (goal %v); %s\n", f.name, f.back.Round(time.Millisecond), f.goal, f.note)
	}
	fmt.Fprintf(&b, "  p99 of orders outside fault windows   %v (%d orders)\n", p99.Round(100*time.Microsecond), quiet)
	fmt.Fprintf(&b, "  peak client connections on the primary %d (max_connections 200)\n", c.peakConns)
	t.Log(b.String())
	for _, f := range c.faults {
		if f.back > f.goal {
			t.Errorf("%s: orders back after %v, goal %v", f.name, f.back, f.goal)
		}
	}
}
