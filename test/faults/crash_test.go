//go:build faults

package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// keyedOrder is one Idempotency-Key a client used, with its body and every
// order id it saw answered 200 for it.
type keyedOrder struct {
	key      string
	product  int
	quantity int
	coupon   string
	okIDs    []string
	attempts int
}

func (k *keyedOrder) body() string {
	items := fmt.Sprintf(`"items":[{"productId":"%d","quantity":%d}]`, k.product, k.quantity)
	if k.coupon == "" {
		return "{" + items + "}"
	}
	return fmt.Sprintf(`{"couponCode":%q,%s}`, k.coupon, items)
}

// retryingClients run workers that each place orders one key at a time and
// retry a key with the same body until it is answered 200, as a careful
// client does. Every fifth key is sent once more after its 200, to check
// that a replay names the same order.
type retryingClients struct {
	base    string
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	keys    []*keyedOrder
	byCode  map[string]int // non-200 answers by status and code
	all     []outcome      // every answer, in order
	n       atomic.Int64
	giveUp  time.Duration
	gaveUps atomic.Int64
}

func startRetryingClients(base string, workers int, giveUp time.Duration) *retryingClients {
	rc := &retryingClients{base: base, stop: make(chan struct{}), byCode: map[string]int{}, giveUp: giveUp}
	for range workers {
		rc.wg.Go(rc.work)
	}
	return rc
}

func (rc *retryingClients) work() {
	for {
		select {
		case <-rc.stop:
			return
		default:
		}
		i := int(rc.n.Add(1))
		k := &keyedOrder{key: uuid.NewString(), product: i%9 + 1, quantity: i%3 + 1}
		if i%3 == 0 {
			k.coupon = "FIFTYOFF" // limited: the order and its redemption share a transaction
		}
		rc.mu.Lock()
		rc.keys = append(rc.keys, k)
		rc.mu.Unlock()
		sends := 1
		if i%5 == 0 {
			sends = 2
		}
		for range sends {
			if !rc.untilOK(k) {
				rc.gaveUps.Add(1)
				break
			}
		}
	}
}

// untilOK sends k until it is answered 200, backing off after failures;
// false when giveUp passes first.
func (rc *retryingClients) untilOK(k *keyedOrder) bool {
	deadline := time.Now().Add(rc.giveUp)
	backoff := 20 * time.Millisecond
	for time.Now().Before(deadline) {
		o := placeOrder(rc.base, k.key, k.body())
		rc.mu.Lock()
		k.attempts++
		rc.all = append(rc.all, o)
		if o.status == 200 {
			k.okIDs = append(k.okIDs, o.orderID)
			rc.mu.Unlock()
			return true
		}
		rc.byCode[fmt.Sprintf("%d %s", o.status, o.code)]++
		rc.mu.Unlock()
		time.Sleep(backoff)
		backoff = min(backoff*2, 400*time.Millisecond)
	}
	return false
}

// finish stops new keys and waits for every started key to get its 200.
func (rc *retryingClients) finish() {
	close(rc.stop)
	rc.wg.Wait()
}

// limitedCouponConfig writes a config directory whose test overlay gives
// FIFTYOFF a redemption limit, so its orders take the transaction path.
func limitedCouponConfig(t *testing.T, limit int) string {
	t.Helper()
	dir := t.TempDir()
	def, err := os.ReadFile(filepath.Join(repoRoot(), "configs", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	testYAML, err := os.ReadFile(filepath.Join(repoRoot(), "configs", "test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rule := fmt.Sprintf("  rules:\n    codes:\n      FIFTYOFF:\n        discount: 50%%\n        max_redemptions: %d\n", limit)
	overlay := string(testYAML)
	if strings.Contains(overlay, "\npromo:\n") {
		overlay = strings.Replace(overlay, "\npromo:\n", "\npromo:\n"+rule, 1)
	} else {
		overlay += "promo:\n" + rule
	}
	if err := os.WriteFile(filepath.Join(dir, "default.yaml"), def, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKill9ExactlyOnce kills the server with SIGKILL three times while
// clients place orders, each retrying its own Idempotency-Key until 200.
// The database must then hold exactly one order per key, each 200 must
// name that order, and no order may exist that no client asked for.
func TestKill9ExactlyOnce(t *testing.T) {
	_, dbURL := startCluster(t)
	env, port := baseEnv(t, dbURL)
	env = append(env, "MINIKART_CONFIG_DIR="+limitedCouponConfig(t, 1_000_000))
	s := startServer(t, env, port)

	rc := startRetryingClients(s.base, 12, 60*time.Second)
	const kills = 3
	var restarts []time.Duration
	for range kills {
		time.Sleep(1500 * time.Millisecond)
		if err := s.cmd.Process.Kill(); err != nil { // SIGKILL: no drain, no hooks
			t.Fatal(err)
		}
		<-s.done
		killed := time.Now()
		s = startServer(t, env, port)
		restarts = append(restarts, time.Since(killed).Round(time.Millisecond))
	}
	time.Sleep(1500 * time.Millisecond)
	rc.finish()

	if n := rc.gaveUps.Load(); n > 0 {
		t.Errorf("%d keys never got a 200 within %v", n, rc.giveUp)
	}
	for code, n := range rc.byCode {
		status, _, _ := strings.Cut(code, " ")
		switch status {
		case "0", "503", "504", "409":
			// No answer (the server was dead), unavailable while starting or
			// timed out: retried. 409 only as "in progress", checked below.
			if status == "409" && !strings.HasSuffix(code, "IDEMPOTENCY_KEY_IN_PROGRESS") {
				t.Errorf("%d answers %s", n, code)
			}
		default:
			t.Errorf("%d answers %s: a retry of the same key and body must not get that", n, code)
		}
	}

	stored, lost := assertExactlyOnce(t, dbURL, rc)
	failed, attempts, oks := 0, 0, 0
	for _, n := range rc.byCode {
		failed += n
	}
	for _, k := range rc.keys {
		attempts += k.attempts
		oks += len(k.okIDs)
	}
	t.Logf("kill -9: %d kills (restart to ready %v); %d keys, %d requests (%d failed and retried), %d answered 200; %d orders stored; lost %d",
		kills, restarts, len(rc.keys), attempts, failed, oks, stored, lost)
	t.Logf("retried answers: %v", rc.byCode)
}

// assertExactlyOnce checks, with the database at dbURL as the judge, that
// every key rc sent holds exactly one order, the one each of its 200s named,
// with the items asked for; that no order exists no client asked for; and
// that the limited coupon counted each of its orders once. It returns the
// orders stored and the 200s lost (whose order is missing or another).
func assertExactlyOnce(t *testing.T, dbURL string, rc *retryingClients) (stored, lost int) {
	t.Helper()
	db, err := sqlx.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keyRows []struct {
		Key     string `db:"key"`
		OrderID string `db:"order_id"`
	}
	if err := db.Select(&keyRows, `SELECT key, order_id::text AS order_id FROM idempotency_keys`); err != nil {
		t.Fatal(err)
	}
	byKey := make(map[string]string, len(keyRows))
	for _, r := range keyRows {
		byKey[r.Key] = r.OrderID
	}
	var orderRows []struct {
		ID       string `db:"id"`
		Coupon   string `db:"coupon"`
		Product  int    `db:"product_id"`
		Quantity int    `db:"quantity"`
		Lines    int    `db:"lines"`
	}
	if err := db.Select(&orderRows, `
		SELECT o.id::text AS id, coalesce(o.coupon_code, '') AS coupon,
		       min(i.product_id) AS product_id, min(i.quantity) AS quantity, count(i.*) AS lines
		FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
		GROUP BY o.id`); err != nil {
		t.Fatal(err)
	}
	orders := make(map[string]int, len(orderRows))
	for i, r := range orderRows {
		orders[r.ID] = i
	}

	asked := map[string]bool{}
	fifty, lost := 0, 0
	for _, k := range rc.keys {
		asked[k.key] = true
		id, ok := byKey[k.key]
		if !ok {
			t.Errorf("key %s: no order stored", k.key)
			lost += len(k.okIDs)
			continue
		}
		for _, seen := range k.okIDs {
			if seen != id {
				lost++
				t.Errorf("key %s: a client saw order %s, the database holds %s", k.key, seen, id)
			}
		}
		i, ok := orders[id]
		if !ok {
			t.Errorf("key %s names order %s, which is not stored", k.key, id)
			continue
		}
		r := orderRows[i]
		if r.Lines != 1 || r.Product != k.product || r.Quantity != k.quantity || r.Coupon != k.coupon {
			t.Errorf("key %s: stored order %+v is not the one asked for (%s)", k.key, r, k.body())
		}
		if k.coupon != "" {
			fifty++
		}
	}
	keyOf := make(map[string]string, len(byKey))
	for key, id := range byKey {
		if !asked[key] {
			t.Errorf("key %s is stored but no client sent it", key)
		}
		if other, dup := keyOf[id]; dup {
			t.Errorf("order %s belongs to keys %s and %s", id, other, key)
		}
		keyOf[id] = key
	}
	for _, r := range orderRows {
		if _, ok := keyOf[r.ID]; !ok {
			t.Errorf("order %s belongs to no key: no client asked for it", r.ID)
		}
	}
	if len(orderRows) != len(rc.keys) || len(byKey) != len(rc.keys) {
		t.Errorf("%d keys asked, %d keys and %d orders stored: want one order per key and no other", len(rc.keys), len(byKey), len(orderRows))
	}
	var redeemed int
	if err := db.Get(&redeemed, `SELECT coalesce(max(redeemed), 0) FROM coupon_redemptions WHERE code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if redeemed != fifty {
		t.Errorf("FIFTYOFF counted %d redemptions for %d orders", redeemed, fifty)
	}
	return len(orderRows), lost
}
