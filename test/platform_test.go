package test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestUnknownRoutesAndMethodsAreJSON(t *testing.T) {
	a := startApp(t, nil)
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/nothing", 404, "NOT_FOUND"},
		{"GET", "/", 404, "NOT_FOUND"},
		{"DELETE", "/api/product", 405, "METHOD_NOT_ALLOWED"},
		{"PUT", "/api/order", 405, "METHOD_NOT_ALLOWED"},
		{"GET", "/docs/nothing.js", 404, "NOT_FOUND"},
		{"GET", "/docs/../api/product", 404, "NOT_FOUND"},
		{"GET", "/docs/" + strings.Repeat("a", 300), 404, "NOT_FOUND"},
		{"POST", "/docs/swagger-ui.css", 405, "METHOD_NOT_ALLOWED"},
		{"BREW", "/api/product", 405, "METHOD_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		res := a.do(tt.method, tt.path, "")
		if res.status != tt.status || res.errorCode(t).Error != tt.code {
			t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, res.status, res.body, tt.status, tt.code)
		}
	}
	for _, path := range []string{"/docs", "/docs/", "/docs/swagger-ui.css", "/docs/favicon-32x32.png"} {
		if res := a.do("GET", path, ""); res.status != 200 {
			t.Errorf("GET %s = %d, want 200", path, res.status)
		}
	}
}

func TestCorrelationID(t *testing.T) {
	a := startApp(t, nil)
	mine := uuid.NewString()
	if got := a.do("GET", "/api/product/1", "", "X-Correlation-ID", mine).header.Get("X-Correlation-ID"); got != mine {
		t.Errorf("valid incoming id not honoured: got %q, want %q", got, mine)
	}
	for _, bad := range []string{"", "abc", "<script>", strings.Repeat("a", 200)} {
		got := a.do("GET", "/api/product/1", "", "X-Correlation-ID", bad).header.Get("X-Correlation-ID")
		if _, err := uuid.Parse(got); err != nil || got == bad {
			t.Errorf("incoming %q: echoed %q, want a fresh UUID", bad, got)
		}
	}
	res := a.do("GET", "/api/product/999", "", "X-Correlation-ID", mine)
	if e := res.errorCode(t); e.CorrelationID != mine {
		t.Errorf("error body correlation_id %q, want %q", e.CorrelationID, mine)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Server") != "" {
		t.Errorf("security headers: %v", res.header)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	a := startApp(t, nil)
	for _, path := range []string{"/livez", "/readyz", "/health"} {
		res := a.do("GET", path, "")
		if res.status != 200 {
			t.Errorf("%s = %d %s", path, res.status, res.body)
		}
	}
	var h struct {
		Status string                       `json:"status"`
		Checks map[string]string            `json:"checks"`
		Info   map[string]map[string]string `json:"info"`
	}
	a.do("GET", "/health", "").json(t, &h)
	if h.Status != "healthy" || h.Checks["database"] != "ok" || h.Checks["coupons"] != "ok" {
		t.Errorf("health = %+v", h)
	}
	// /health says which gzip decoder the coupon set was built with.
	if c := h.Info["coupons"]; c["source"] != "build" || c["decoder"] == "" || c["codes"] != "8" {
		t.Errorf("health info = %v, want the coupon set's source, decoder and codes", h.Info)
	}
	a.do("GET", "/api/product/3", "")
	a.do("GET", "/api/product/4", "")
	a.order(`{"items":[{"productId":"1","quantity":1}]}`)
	m := string(a.do("GET", "/metrics", "").body)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/product/:productId",status="200"} 2`,
		`http_request_duration_seconds_bucket{method="POST",route="/api/order"`,
		"db_pool_acquired_conns", "db_pool_max_conns 16", "db_pool_acquire_wait_seconds_total",
		"coupon_set_codes 8", `coupon_set_loads_total{source="build"} 1`, "coupon_set_build_seconds",
		"go_goroutines",
		`orders_placed_total{coupon="no"} 1`, "orders_total_amount 6.5", "orders_discount_amount 0",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestHealthReportsDatabaseDown(t *testing.T) {
	a := startApp(t, nil)
	// Kill the app's connections and forbid new ones: the database check fails.
	dbname := a.databaseName()
	admin := adminDB(t)
	if _, err := admin.Exec(`ALTER DATABASE "` + dbname + `" ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`ALTER DATABASE "` + dbname + `" ALLOW_CONNECTIONS true`) })
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, dbname); err != nil {
		t.Fatal(err)
	}
	res := a.waitFor("/readyz", func(r response) bool { return r.status == 503 })
	if res.status != 503 || !strings.Contains(string(res.body), `"database":"unavailable: database not reachable"`) {
		t.Errorf("readyz with database down = %d %s, want 503 naming the database", res.status, res.body)
	}
	if res := a.do("GET", "/livez", ""); res.status != 200 {
		t.Errorf("livez = %d, want 200 while the process runs", res.status)
	}
	res = a.order(`{"items":[{"productId":"1","quantity":1}]}`)
	if res.status != 503 || res.errorCode(t).Error != "SERVICE_UNAVAILABLE" || res.header.Get("Retry-After") == "" {
		t.Errorf("order with database down = %d %s, want 503 SERVICE_UNAVAILABLE with Retry-After", res.status, res.body)
	}
}

// TestPortInUseFailsStart starts on a port another process holds, for the
// API and for the admin listener: start fails, naming the setting to change.
func TestPortInUseFailsStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"server", map[string]any{"server.port": busy}, "choose another port with server.port (MINIKART_SERVER_PORT or SERVER_PORT)"},
		{"admin", map[string]any{"admin.enabled": true, "admin.host": "127.0.0.1", "admin.port": busy}, "choose another port with admin.port (MINIKART_ADMIN_PORT)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryStartApp(t, tc.overrides)
			if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start on a busy port: %v, want address already in use and %q", err, tc.want)
			}
		})
	}
}

func TestBadCouponFileStopsStart(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.gz")
	good, err := os.ReadFile(sampleCoupons()[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notGzip := filepath.Join(dir, "plain.gz")
	if err := os.WriteFile(notGzip, []byte("BIRTHDAY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := sampleCoupons()
	for name, bad := range map[string]string{
		"missing":   filepath.Join(dir, "missing.gz"),
		"truncated": truncated,
		"not gzip":  notGzip,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tryStartApp(t, map[string]any{"promo.files": []string{files[0], bad, files[2]}})
			if err == nil || !strings.Contains(err.Error(), bad) {
				t.Fatalf("start with a %s coupon file: %v, want an error naming %s", name, err, bad)
			}
		})
	}
}

func TestBackgroundCouponLoad(t *testing.T) {
	// Background mode: start returns before the set is ready (the promo
	// unit tests hold the load to observe that window); whatever is seen
	// before readiness must be the documented answers, and after it the
	// coupon works.
	a := startApp(t, map[string]any{"promo.load": "background"})
	if res := a.do("GET", "/api/product", ""); res.status != 200 {
		t.Errorf("catalog: %d, want 200", res.status)
	}
	for {
		ready := a.do("GET", "/readyz", "")
		if ready.status == 200 {
			break
		}
		if ready.status != 503 || !strings.Contains(string(ready.body), `"coupons":"loading"`) {
			t.Fatalf("readyz while loading = %d %s, want 503 with coupons loading", ready.status, ready.body)
		}
		res := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":1}]}`)
		if res.status == 503 && (res.errorCode(t).Error != "PROMO_UNAVAILABLE" || res.header.Get("Retry-After") == "") {
			t.Fatalf("coupon order while loading = %d %s, want 503 PROMO_UNAVAILABLE with Retry-After", res.status, res.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if res := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":1}]}`); res.status != 200 {
		t.Errorf("coupon order once loaded = %d %s", res.status, res.body)
	}
}
