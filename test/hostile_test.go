package test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peterldowns/pgtestdb"

	"minikart/platform/admin"
	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/platform/httpserver"
	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

// TestDeclaredBodyOverTheLimitIsRefusedAtOnce declares a body far over
// ordering.max_body_bytes and sends none of it: the answer must come before
// the server's read timeout, as 413 BODY_TOO_LARGE.
func TestDeclaredBodyOverTheLimitIsRefusedAtOnce(t *testing.T) {
	a := startApp(t, map[string]any{"server.read_timeout": "2m", "server.write_timeout": "3m"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /api/order HTTP/1.1\r\nHost: x\r\napi_key: apitest\r\n" +
		"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{")); err != nil {
		t.Fatal(err)
	}
	// Far shorter than read_timeout: a server that waits for the body fails.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	httpRes, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is outstanding: %v", err)
	}
	defer httpRes.Body.Close()
	var body strings.Builder
	_, _ = bufio.NewReader(httpRes.Body).WriteTo(&body)
	res := response{status: httpRes.StatusCode, header: httpRes.Header, body: []byte(body.String())}
	if res.status != http.StatusRequestEntityTooLarge || res.errorCode(t).Error != "BODY_TOO_LARGE" {
		t.Errorf("= %d %s, want 413 BODY_TOO_LARGE", res.status, res.body)
	}
	if n := a.count("orders"); n != 0 {
		t.Errorf("%d orders stored", n)
	}
}

// TestPreflightsAreRateLimited sends preflights from a foreign origin past
// the per-IP burst: they are limited like any other request.
func TestPreflightsAreRateLimited(t *testing.T) {
	a := startApp(t, map[string]any{
		"server.cors.allowed_origins":           []string{"https://shop.example"},
		"server.rate_limit.enabled":             true,
		"server.rate_limit.requests_per_second": 0.01,
		"server.rate_limit.burst":               5,
	})
	statuses := map[int]int{}
	for range 20 {
		res := a.do(http.MethodOptions, "/api/order", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		statuses[res.status]++
	}
	if statuses[http.StatusNoContent] != 5 || statuses[http.StatusTooManyRequests] != 15 {
		t.Errorf("20 preflights = %v, want 5 × 204 and 15 × 429", statuses)
	}
	if res := a.do(http.MethodGet, "/api/product/1", ""); res.status != http.StatusTooManyRequests {
		t.Errorf("GET after the preflights used the bucket = %d, want 429", res.status)
	}
}

// TestClientHangUpStoresNothing holds the order insert behind a table lock,
// lets the client hang up while it waits, then releases the lock: the
// request is counted as 499 (not 5xx), and neither the order nor its
// Idempotency-Key is stored.
func TestClientHangUpStoresNothing(t *testing.T) {
	a := startApp(t, nil)
	lock, err := a.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.Exec(`LOCK TABLE orders IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	ctx, hangUp := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/api/order",
		strings.NewReader(`{"items":[{"productId":"1","quantity":1}]}`))
	req.Header.Set("api_key", "apitest")
	req.Header.Set("Idempotency-Key", "hang-up-1")
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	waitFor(t, "the order insert to wait for the lock", func() bool {
		var n int
		_ = a.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		return n > 0
	})
	hangUp()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want its own cancellation", err)
	}
	waitFor(t, "the request to be counted as 499", func() bool {
		return strings.Contains(string(a.do(http.MethodGet, "/metrics", "").body),
			`http_requests_total{method="POST",route="/api/order",status="499"} 1`)
	})
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	if m := string(a.do(http.MethodGet, "/metrics", "").body); strings.Contains(m, `route="/api/order",status="5`) {
		t.Errorf("the hang-up was counted as a server error")
	}
	if n, k := a.count("orders"), a.count("idempotency_keys"); n != 0 || k != 0 {
		t.Errorf("%d orders and %d idempotency keys stored for a request whose client hung up", n, k)
	}
	// A retry with the same key is a first request, not a replay.
	if res := a.order(`{"items":[{"productId":"1","quantity":1}]}`, "Idempotency-Key", "hang-up-1"); res.status != 200 || res.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("retry = %d %v %s", res.status, res.header, res.body)
	}
}

// TestStartRefusesASchemaBehindTheBinary starts without migrating on start
// against databases whose schema is missing, behind or dirty: start-up fails
// naming both versions and the command to run.
func TestStartRefusesASchemaBehindTheBinary(t *testing.T) {
	want, err := db.EmbeddedVersion()
	if err != nil || want < 2 {
		t.Fatalf("embedded version %d: %v", want, err)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, url string)
		says    []string
	}{
		{"an empty database", nil, []string{
			fmt.Sprintf("at version 0 and this binary needs version %d", want), "run `minikart migrate up`"}},
		{"one migration behind", func(t *testing.T, url string) { migrateOnce(t, url, (*db.Migrator).Down) }, []string{
			fmt.Sprintf("at version %d and this binary needs version %d", want-1, want), "run `minikart migrate up`"}},
		{"a failed migration", func(t *testing.T, url string) { execOn(t, url, `UPDATE schema_migrations SET dirty = true`) }, []string{
			fmt.Sprintf("dirty at version %d", want), fmt.Sprintf("`minikart migrate force %d`", want-1), "`minikart migrate up`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			if tt.prepare == nil {
				url = newDatabaseWith(t, pgtestdb.NoopMigrator{})
			} else {
				url = newDatabase(t)
				tt.prepare(t, url)
			}
			_, err := tryStartApp(t, map[string]any{"database.url": url, "database.migrate_on_start": false})
			if err == nil {
				t.Fatal("started on a schema the binary cannot serve")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("start error %q does not say %q", err, s)
				}
			}
		})
	}
	t.Run("a schema ahead of the binary is served", func(t *testing.T) {
		url := newDatabase(t)
		execOn(t, url, `UPDATE schema_migrations SET version = version + 1`)
		a := startApp(t, map[string]any{"database.url": url, "database.migrate_on_start": false})
		if res := a.do(http.MethodGet, "/readyz", ""); res.status != 200 {
			t.Errorf("readyz = %d %s", res.status, res.body)
		}
	})
}

// TestReadyzChecksTheSchema rolls the schema version back under a running
// server: readiness fails. With production's setting the public port says
// only that the schema check is unavailable; the admin listener names the
// versions and the command.
func TestReadyzChecksTheSchema(t *testing.T) {
	port, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, map[string]any{
		"server.public_health_details": false,
		"admin.enabled":                true,
		"admin.host":                   "127.0.0.1",
		"admin.port":                   port,
	})
	if res := a.do(http.MethodGet, "/readyz", ""); res.status != 200 || !strings.Contains(string(res.body), `"schema":"ok"`) {
		t.Fatalf("readyz = %d %s", res.status, res.body)
	}
	if _, err := a.db.Exec(`UPDATE schema_migrations SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	res := a.waitFor("/readyz", func(r response) bool { return r.status == 503 })
	if want := `{"status":"not_ready","checks":{"catalogue_cache":"ok","coupons":"ok","database":"ok","redemption_counters":"ok","schema":"unavailable"}}`; res.status != 503 || string(res.body) != want {
		t.Errorf("public readyz on a schema behind = %d %s, want 503 %s", res.status, res.body, want)
	}
	for _, path := range []string{"/readyz", "/health"} {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, _ = bufio.NewReader(res.Body).WriteTo(&body)
		res.Body.Close()
		if res.StatusCode != 503 || !strings.Contains(body.String(), "run `minikart migrate up`") {
			t.Errorf("admin %s on a schema behind = %d %s", path, res.StatusCode, body.String())
		}
	}
}

func migrateOnce(t *testing.T, url string, step func(*db.Migrator) error) {
	t.Helper()
	if err := harness.Migrate(url, step); err != nil {
		t.Fatal(err)
	}
}

func execOn(t *testing.T, url, q string) {
	t.Helper()
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsStayOffThePublicPortInProduction starts with production's
// metrics settings: /metrics is 404 on the public port and served, with the
// business figures, on the admin listener.
func TestMetricsStayOffThePublicPortInProduction(t *testing.T) {
	src, err := config.Load(config.Options{Env: config.Production})
	if err != nil {
		t.Fatal(err)
	}
	var server httpserver.Config
	var adm admin.Config
	if err := src.Decode("server", &server); err != nil {
		t.Fatal(err)
	}
	if err := src.Decode("admin", &adm); err != nil {
		t.Fatal(err)
	}
	if server.PublicMetrics || !adm.Enabled || adm.Host != "127.0.0.1" || adm.PProf {
		t.Fatalf("production: public_metrics %t, admin %+v; want metrics on a loopback admin listener only", server.PublicMetrics, adm)
	}

	port, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, map[string]any{
		"server.public_metrics": false,
		"admin.enabled":         true,
		"admin.host":            "127.0.0.1",
		"admin.port":            port,
	})
	a.order(`{"items":[{"productId":"1","quantity":1}]}`)
	if res := a.do(http.MethodGet, "/metrics", ""); res.status != 404 || res.errorCode(t).Error != "NOT_FOUND" {
		t.Errorf("public /metrics = %d %s, want 404", res.status, clipBody(res.body))
	}
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body strings.Builder
	_, _ = bufio.NewReader(res.Body).WriteTo(&body)
	for _, want := range []string{`orders_placed_total{coupon="no"} 1`, "db_pool_max_conns", `http_requests_total{method="POST",route="/api/order",status="200"} 1`} {
		if res.StatusCode != 200 || !strings.Contains(body.String(), want) {
			t.Errorf("admin /metrics = %d, lacks %q", res.StatusCode, want)
		}
	}
}

// TestDuplicateKeysAreRefused sends orders naming a key twice, at the top
// and inside an item, the second spelt with an escape: each is 400
// INVALID_JSON naming the key, and nothing is stored, so no check that
// reads the first copy can be bypassed by a second.
func TestDuplicateKeysAreRefused(t *testing.T) {
	a := startApp(t, nil)
	tests := []struct{ body, field string }{
		{`{"couponCode":"NOPE","items":[{"productId":"1","quantity":1}],"couponCode":"HAPPYHRS"}`, "couponCode"},
		{`{"items":[{"productId":"1","quantity":1}],"items":[{"productId":"2","quantity":50}]}`, "items"},
		{`{"items":[{"productId":"1","quantity":1,"quantity":2}]}`, "items[0].quantity"},
		{`{"items":[{"productId":"1","quantity":1}],"\u0069tems":[]}`, "items"},
	}
	for _, tt := range tests {
		res := a.order(tt.body)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s = %d %s, want 400", tt.body, res.status, res.body)
			continue
		}
		e := res.errorCode(t)
		if e.Error != "INVALID_JSON" || len(e.Details) != 1 || e.Details[0].Field != tt.field ||
			!strings.Contains(e.Message, "more than once") {
			t.Errorf("%s = %s, want INVALID_JSON naming %s", tt.body, res.body, tt.field)
		}
	}
	if n := a.count("orders"); n != 0 {
		t.Errorf("%d orders stored", n)
	}
	if res := a.order(`{"items":[{"productId":"1","quantity":1},{"productId":"1","quantity":1}]}`); res.status != http.StatusOK {
		t.Errorf("an order naming each key once per object = %d %s", res.status, res.body)
	}
}
