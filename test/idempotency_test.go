package test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"minikart/platform/health"
)

func TestIdempotentReplay(t *testing.T) {
	a := startApp(t, map[string]any{"auth.api_keys": []string{"apitest", "other"}})
	key := uuid.NewString()
	body := `{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2}]}`

	first := a.order(body, "Idempotency-Key", key)
	if first.status != 200 || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v %s", first.status, first.header, first.body)
	}
	// The same request, spelled differently (spacing, case, extra fields).
	again := a.order(`{ "items": [ {"productId":"1", "quantity":2, "note":"x"} ], "couponCode":" happyhrs "}`, "Idempotency-Key", key)
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Errorf("replay = %d %v %s; want 200, Idempotent-Replayed: true and the first body %s", again.status, again.header, again.body, first.body)
	}
	reused := a.order(`{"items":[{"productId":"1","quantity":3}]}`, "Idempotency-Key", key)
	if reused.status != 409 || reused.errorCode(t).Error != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("same key, other body = %d %s; want 409 IDEMPOTENCY_KEY_REUSED", reused.status, reused.body)
	}
	// Keys are scoped to the api key: another client may use the same string.
	other := a.do(http.MethodPost, "/api/order", body, "api_key", "other", "Idempotency-Key", key)
	if other.status != 200 || other.header.Get("Idempotent-Replayed") != "" || string(other.body) == string(first.body) {
		t.Errorf("same key from another api key = %d %s; want a new order", other.status, other.body)
	}
	if n := a.count("orders"); n != 2 {
		t.Errorf("%d orders stored, want 2", n)
	}
}

func TestIdempotencyKeyValidation(t *testing.T) {
	a := startApp(t, nil)
	body := `{"items":[{"productId":"1","quantity":1}]}`
	for name, key := range map[string]string{
		"empty":     "",
		"too long":  strings.Repeat("k", 256),
		"space":     "my key",
		"non-ASCII": "clé-1234",
		"tab":       "key\tvalue",
	} {
		res := a.order(body, "Idempotency-Key", key)
		if res.status != 400 || res.errorCode(t).Error != "INVALID_IDEMPOTENCY_KEY" {
			t.Errorf("%s key: %d %s, want 400 INVALID_IDEMPOTENCY_KEY", name, res.status, res.body)
		}
	}
	if res := a.order(body, "Idempotency-Key", strings.Repeat("k", 255)); res.status != 200 {
		t.Errorf("255-character key: %d %s", res.status, res.body)
	}
	if n := a.count("orders"); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

func TestFailedOrderDoesNotConsumeKey(t *testing.T) {
	a := startApp(t, nil)
	key := uuid.NewString()
	if res := a.order(`{"items":[{"productId":"404","quantity":1}]}`, "Idempotency-Key", key); res.status != 422 {
		t.Fatalf("unknown product: %d", res.status)
	}
	res := a.order(`{"items":[{"productId":"4","quantity":1}]}`, "Idempotency-Key", key)
	if res.status != 200 || res.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("after a rejected attempt the key should be free: %d %s", res.status, res.body)
	}
}

func TestConcurrentRequestsWithOneKeyCreateOneOrder(t *testing.T) {
	a := startApp(t, nil)
	const n = 20
	key := uuid.NewString()
	body := `{"items":[{"productId":"2","quantity":1}]}`
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Go(func() { results[i] = a.order(body, "Idempotency-Key", key) })
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, r := range results {
		switch r.status {
		case 200:
			var o orderResp
			r.json(t, &o)
			ids[o.ID] = true
		case 409:
			if e := r.errorCode(t); e.Error != "IDEMPOTENCY_KEY_IN_PROGRESS" {
				t.Errorf("409 with %s", e.Error)
			}
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	if len(ids) != 1 || a.count("orders") != 1 {
		t.Errorf("%d distinct order ids answered, %d orders stored; want exactly one", len(ids), a.count("orders"))
	}
}

func TestIdempotencyKeysExpireAndArePurged(t *testing.T) {
	a := startApp(t, map[string]any{"ordering.idempotency_purge_interval": "50ms"})
	key := uuid.NewString()
	body := `{"items":[{"productId":"5","quantity":1}]}`
	first := a.order(body, "Idempotency-Key", key)
	// Expire the key as time would, then the same key places a new order.
	if _, err := a.db.Exec(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	second := a.order(body, "Idempotency-Key", key)
	if second.status != 200 || second.header.Get("Idempotent-Replayed") != "" || string(second.body) == string(first.body) {
		t.Errorf("after expiry: %d %s; want a new order", second.status, second.body)
	}
	if _, err := a.db.Exec(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "expired keys purged", func() bool { return a.count("idempotency_keys") == 0 })
	if n := a.count("orders"); n != 2 {
		t.Errorf("%d orders, want 2 (purging keys never touches orders)", n)
	}
}

// logPurges makes a statement-level trigger record in purge_log how many
// keys each DELETE of idempotency keys removed.
func logPurges(t *testing.T, a *testApp) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE purge_log (n int NOT NULL)`,
		`CREATE FUNCTION log_purge() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN INSERT INTO purge_log SELECT count(*) FROM gone; RETURN NULL; END $$`,
		`CREATE TRIGGER purge_logged AFTER DELETE ON idempotency_keys
		 REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION log_purge()`,
	} {
		if _, err := a.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// A backlog of expired keys is purged in statements of at most
// ordering.idempotency_purge_batch keys, oldest first, so orders never wait
// behind one long delete; keys still alive stay.
func TestIdempotencyPurgeDeletesInBatches(t *testing.T) {
	a := startApp(t, map[string]any{"ordering.idempotency_purge_interval": "50ms", "ordering.idempotency_purge_batch": 10})
	logPurges(t, a)
	for _, q := range []string{
		`INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
		 SELECT 'shop', 'expired-' || i, '\x00', gen_random_uuid(), '\x00', now() - i * interval '1 minute'
		 FROM generate_series(1, 35) i`,
		`INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
		 SELECT 'shop', 'alive-' || i, '\x00', gen_random_uuid(), '\x00', now() + interval '1 hour'
		 FROM generate_series(1, 3) i`,
	} {
		if _, err := a.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "expired keys purged", func() bool { return a.count("idempotency_keys") == 3 })
	var statements, most, deleted int
	if err := a.db.QueryRow(`SELECT count(*), coalesce(max(n), 0), coalesce(sum(n), 0) FROM purge_log WHERE n > 0`).Scan(&statements, &most, &deleted); err != nil {
		t.Fatal(err)
	}
	if deleted != 35 || most > 10 || statements < 4 {
		t.Errorf("%d keys deleted by %d statements, at most %d each; want 35 by at least 4 statements of at most 10", deleted, statements, most)
	}
	var alive int
	if err := a.db.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE key LIKE 'alive-%'`).Scan(&alive); err != nil || alive != 3 {
		t.Errorf("%d live keys left (%v), want 3", alive, err)
	}
}

// The purge deletes each expired key where the expiry index found it: it
// never looks a key up again through the primary key (at a million keys
// those lookups were random reads, most of each statement's time) nor
// reads the table through a sequential scan. PostgreSQL's own counters
// tell, once the server's sessions have published them (when idle, within
// seconds).
func TestIdempotencyPurgeReadsKeysOnce(t *testing.T) {
	a := startApp(t, map[string]any{"ordering.idempotency_purge_interval": "50ms", "ordering.idempotency_purge_batch": 100})
	const n = 500
	logPurges(t, a)
	// The keys and their statistics in one transaction: until it commits,
	// the purges (planned for an empty table, which they may scan whole)
	// see no row, and after it they plan again.
	tx, err := a.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		// Responses the size of an order's, so the table is not a few pages
		// a plan would read whole anyway.
		`INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
		 SELECT 'shop', 'key-' || i, '\x00', gen_random_uuid(), convert_to(repeat(md5(i::text), 37), 'UTF8'),
		        now() + interval '2 seconds'
		 FROM generate_series(1, ` + strconv.Itoa(n) + `) i`,
		`ANALYZE idempotency_keys`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	type counters struct{ deleted, seqRead, keyScans, expiryScans int64 }
	read := func() (c counters) {
		t.Helper()
		const q = `
			SELECT pg_stat_clear_snapshot() IS NULL, t.n_tup_del, t.seq_tup_read,
			       coalesce(sum(i.idx_scan) FILTER (WHERE i.indexrelname = 'idempotency_keys_pkey'), 0),
			       coalesce(sum(i.idx_scan) FILTER (WHERE i.indexrelname = 'idempotency_keys_expires_at_idx'), 0)
			FROM pg_stat_user_tables t JOIN pg_stat_user_indexes i USING (relid)
			WHERE t.relname = 'idempotency_keys'
			GROUP BY t.n_tup_del, t.seq_tup_read`
		if err := a.db.QueryRow(q).Scan(new(bool), &c.deleted, &c.seqRead, &c.keyScans, &c.expiryScans); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The keys are alive until now, so no purge has deleted any yet.
	before := read()
	waitFor(t, "expired keys purged", func() bool {
		var deleted int
		return a.db.QueryRow(`SELECT coalesce(sum(n), 0) FROM purge_log`).Scan(&deleted) == nil && deleted == n
	})
	var after counters
	waitFor(t, "the purge's counters published", func() bool {
		after = read()
		return after.deleted-before.deleted >= n
	})
	if after.keyScans != before.keyScans || after.seqRead != before.seqRead || after.expiryScans == before.expiryScans {
		t.Errorf("purging %d keys: %d primary-key scans, %d rows read by sequential scans, %d expiry-index scans; want 0, 0 and some",
			n, after.keyScans-before.keyScans, after.seqRead-before.seqRead, after.expiryScans-before.expiryScans)
	}
}

func TestRedemptionLimitHoldsUnderConcurrency(t *testing.T) {
	a := startApp(t, map[string]any{"promo.rules.codes": map[string]any{
		"FIFTYOFF": map[string]any{"discount": "50%", "max_redemptions": 10},
	}})
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]response, n)
	for i := range n {
		wg.Go(func() {
			statuses[i] = a.order(fmt.Sprintf(`{"couponCode":"FIFTYOFF","items":[{"productId":"%d","quantity":1}]}`, i%9+1))
		})
	}
	wg.Wait()
	ok, exhausted := 0, 0
	for _, r := range statuses {
		switch {
		case r.status == 200:
			ok++
		case r.status == 422 && r.errorCode(t).Error == "PROMO_EXHAUSTED":
			exhausted++
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	var stored, redeemed int
	if err := a.db.Get(&stored, `SELECT count(*) FROM orders WHERE coupon_code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if err := a.db.Get(&redeemed, `SELECT redeemed FROM coupon_redemptions WHERE code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if ok != 10 || exhausted != 40 || stored != 10 || redeemed != 10 {
		t.Errorf("ok %d, exhausted %d, stored %d, counter %d; want 10, 40, 10, 10", ok, exhausted, stored, redeemed)
	}
	// An unlimited code is not counted at all.
	if res := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":1}]}`); res.status != 200 {
		t.Fatalf("HAPPYHRS: %d", res.status)
	}
	if n := a.count("coupon_redemptions"); n != 1 {
		t.Errorf("%d counter rows, want only FIFTYOFF's", n)
	}
}

func TestIdempotencyFingerprintIsCanonical(t *testing.T) {
	a := startApp(t, nil)
	key := uuid.NewString()
	first := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"4","quantity":1},{"productId":"2","quantity":3}]}`, "Idempotency-Key", key)
	if first.status != 200 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// The same products and code, spelled differently.
	again := a.order(`{"couponCode":"\thappyHRS ","items":[{"productId":"04","quantity":1},{"productId":"+002","quantity":3}]}`, "Idempotency-Key", key)
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Errorf("same request, other spelling: %d %v %s; want the replay of %s", again.status, again.header, again.body, first.body)
	}
	// An order is a list: the same items in another order are another request.
	swapped := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"2","quantity":3},{"productId":"4","quantity":1}]}`, "Idempotency-Key", key)
	if swapped.status != 409 || swapped.errorCode(t).Error != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("items reordered: %d %s; want 409 IDEMPOTENCY_KEY_REUSED", swapped.status, swapped.body)
	}
	if n := a.count("orders"); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

// A limit configured for a code already in use starts the code's counter
// from its past orders when the server starts, so its first order under
// the limit bumps a counter instead of counting the orders table.
func TestRedemptionCounterStartsBeforeTheFirstOrder(t *testing.T) {
	dbURL := newDatabase(t)
	before := startApp(t, map[string]any{"database.url": dbURL})
	for i := range 4 {
		if res := before.order(fmt.Sprintf(`{"couponCode":"fiftyoff","items":[{"productId":"%d","quantity":1}]}`, i+1)); res.status != 200 {
			t.Fatalf("unlimited order %d: %d %s", i, res.status, res.body)
		}
	}
	if n := before.count("coupon_redemptions"); n != 0 {
		t.Fatalf("%d counter rows before any limit, want 0", n)
	}
	after := startApp(t, map[string]any{"database.url": dbURL, "promo.rules.codes": map[string]any{
		"FIFTYOFF": map[string]any{"discount": "50%", "max_redemptions": 10},
	}})
	counter := func() int {
		var n int
		if err := after.db.Get(&n, `SELECT coalesce((SELECT redeemed FROM coupon_redemptions WHERE code = 'FIFTYOFF'), -1)`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "FIFTYOFF's counter started at 4 with no order placed", func() bool { return counter() == 4 })
	if res := after.order(`{"couponCode":"FIFTYOFF","items":[{"productId":"1","quantity":1}]}`); res.status != 200 {
		t.Fatalf("limited order: %d %s", res.status, res.body)
	}
	if n := counter(); n != 5 {
		t.Errorf("counter %d after one more order, want 5", n)
	}
}

func TestRedemptionLimitCountsEarlierOrders(t *testing.T) {
	dbURL := newDatabase(t)
	// FIFTYOFF in use without a limit.
	before := startApp(t, map[string]any{"database.url": dbURL})
	for i := range 4 {
		if res := before.order(fmt.Sprintf(`{"couponCode":"fiftyoff","items":[{"productId":"%d","quantity":1}]}`, i+1)); res.status != 200 {
			t.Fatalf("unlimited order %d: %d %s", i, res.status, res.body)
		}
	}
	// Then the limit is configured: 10 in all, 4 of which are used.
	after := startApp(t, map[string]any{"database.url": dbURL, "promo.rules.codes": map[string]any{
		"FIFTYOFF": map[string]any{"discount": "50%", "max_redemptions": 10},
	}})
	const n = 30
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Go(func() {
			results[i] = after.order(fmt.Sprintf(`{"couponCode":"FIFTYOFF","items":[{"productId":"%d","quantity":1}]}`, i%9+1))
		})
	}
	wg.Wait()
	ok, exhausted := 0, 0
	for _, r := range results {
		switch {
		case r.status == 200:
			ok++
		case r.status == 422 && r.errorCode(t).Error == "PROMO_EXHAUSTED":
			exhausted++
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	var stored, redeemed int
	if err := after.db.Get(&stored, `SELECT count(*) FROM orders WHERE coupon_code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if err := after.db.Get(&redeemed, `SELECT redeemed FROM coupon_redemptions WHERE code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if ok != 6 || exhausted != 24 || stored != 10 || redeemed != 10 {
		t.Errorf("ok %d, exhausted %d, stored %d, counter %d; want 6, 24, 10, 10", ok, exhausted, stored, redeemed)
	}
}

// A server whose rules give a code already in use a limit is not ready
// until the code's counter has started from its past orders: while that
// count waits (here behind a lock on orders), /readyz answers 503 naming
// the counters, so no order reaches the server that would have to count
// them itself; once it is done the server is ready and the counter there.
func TestNotReadyUntilRedemptionCountersStart(t *testing.T) {
	dbURL := newDatabase(t)
	db, err := sqlx.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE orders IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, map[string]any{"database.url": dbURL, "promo.rules.codes": map[string]any{
		"FIFTYOFF": map[string]any{"discount": "50%", "max_redemptions": 10},
	}})
	// The counter's start is waiting for the lock: the answer must stay
	// 503 for as long as a health refresh would take to change it.
	time.Sleep(2 * health.RefreshInterval)
	res := a.do(http.MethodGet, "/readyz", "")
	if res.status != 503 || !strings.Contains(string(res.body), `"redemption_counters":"loading`) {
		t.Fatalf("readyz while the counter starts = %d %s, want 503 with redemption_counters loading", res.status, res.body)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if res := a.waitFor("/readyz", func(r response) bool { return r.status == 200 }); res.status != 200 {
		t.Fatalf("readyz once the counter started = %d %s, want 200", res.status, res.body)
	}
	if n := a.count("coupon_redemptions"); n != 1 {
		t.Errorf("%d counter rows once ready, want FIFTYOFF's", n)
	}
}

// A limited code's counter starts from its past orders counted in an
// index: on a vacuumed orders table the count fetches none of the orders'
// rows and scans none of its pages (PostgreSQL's own counters), so it
// stays short whatever the number of the code's orders.
func TestRedemptionCounterCountsFromTheIndex(t *testing.T) {
	dbURL := newDatabase(t)
	before := startApp(t, map[string]any{"database.url": dbURL})
	seedOrders(t, before, 20000, time.Now(), []string{"demo"}, []string{"", "", "", "", "FIFTYOFF"})
	// As autovacuum does: the owner may vacuum, and a vacuumed table's
	// pages are marked all-visible, which an index-only scan relies on
	// (once the rows' commits are flushed: this cluster commits
	// asynchronously, so a checkpoint first).
	owner := *serverURL
	owner.Path = "/" + before.databaseName()
	vacuum, err := sqlx.Open("pgx", owner.String())
	if err != nil {
		t.Fatal(err)
	}
	defer vacuum.Close()
	if _, err := vacuum.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	if _, err := vacuum.Exec(`VACUUM (ANALYZE) orders`); err != nil {
		t.Fatal(err)
	}
	// The count's own work, read from the coupon code's indexes: rows of
	// orders fetched through them, and their scans. Other statements'
	// index work on orders (the seeding's, published late: a backend
	// reports its counters when idle) is not the count's.
	stats := func() (fetched, seq, idx int64) {
		t.Helper()
		const q = `SELECT pg_stat_clear_snapshot() IS NULL, sum(i.idx_tup_fetch)::bigint, min(t.seq_scan), sum(i.idx_scan)::bigint
			FROM pg_stat_user_indexes i JOIN pg_stat_user_tables t USING (relid)
			WHERE i.indexrelname IN ('orders_coupon_code_idx', 'orders_coupon_code_created_at_idx')`
		if err := vacuum.QueryRow(q).Scan(new(bool), &fetched, &seq, &idx); err != nil {
			t.Fatal(err)
		}
		return fetched, seq, idx
	}
	fetched0, seq0, idx0 := stats()
	after := startApp(t, map[string]any{"database.url": dbURL, "promo.rules.codes": map[string]any{
		"FIFTYOFF": map[string]any{"discount": "50%", "max_redemptions": 100000},
	}})
	if res := after.waitFor("/readyz", func(r response) bool { return r.status == 200 }); res.status != 200 {
		t.Fatalf("readyz = %d %s", res.status, res.body)
	}
	var n int
	if err := after.db.Get(&n, `SELECT coalesce((SELECT redeemed FROM coupon_redemptions WHERE code = 'FIFTYOFF'), -1)`); err != nil {
		t.Fatal(err)
	}
	if n != 4000 {
		t.Fatalf("FIFTYOFF's counter starts at %d once the server is ready, want its 4000 orders", n)
	}
	var fetched, seq, idx int64
	waitFor(t, "the count's index scans to show in pg_stat_user_tables", func() bool {
		fetched, seq, idx = stats()
		return idx > idx0
	})
	if fetched-fetched0 > 10 || seq != seq0 {
		t.Errorf("starting the counter fetched %d rows of orders and scanned it whole %d times, want none: the count reads the code's orders", fetched-fetched0, seq-seq0)
	}
}
