package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/ordering"
	"minikart/platform/paging"
	"minikart/test/internal/harness"
)

// The admin API: its key matrix, products through the same path as the
// menu import, and every order read through indexes.

// adminHeaders carry the test configuration's admin key (ops:admintest).
var adminHeaders = []string{"api_key", "admintest"}

// startAdminApp starts the app with its info lines captured in logs.
func startAdminApp(t *testing.T, logs *harness.SyncBuffer) *testApp {
	t.Helper()
	a, err := tryStartAppWith(t, map[string]any{"log.level": "info"},
		fx.Decorate(func(l zerolog.Logger) zerolog.Logger { return l.Output(logs) }))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdminKeys(t *testing.T) {
	a := startApp(t, nil)
	const order = "00000000-0000-4000-8000-000000000001"
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/admin/products", ""},
		{http.MethodPut, "/api/admin/products/70", `{"name":"Lemon Tart","category":"Tart","price":5.10,"image":"waffle"}`},
		{http.MethodDelete, "/api/admin/products/70", ""},
		{http.MethodGet, "/api/admin/orders", ""},
		{http.MethodGet, "/api/admin/orders/" + order, ""},
		{http.MethodGet, "/api/admin/reports/totals", ""},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				headers []string
				status  int
				code    string
			}{
				{"no key", nil, 401, "UNAUTHORIZED"},
				{"an unknown key", []string{"api_key", "nobody"}, 401, "UNAUTHORIZED"},
				{"a shop key", []string{"api_key", "apitest"}, 403, "FORBIDDEN"},
			} {
				res := a.do(r.method, r.path, r.body, tc.headers...)
				if res.status != tc.status || res.errorCode(t).Error != tc.code {
					t.Errorf("%s: status %d %s, want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
				}
			}
			res := a.do(r.method, r.path, r.body, adminHeaders...)
			if want := map[string]int{http.MethodPut: 201, http.MethodDelete: 204}[r.method]; res.status >= 300 && !(strings.Contains(r.path, order) && res.status == 404) ||
				(want != 0 && res.status != want) {
				t.Errorf("with the admin key: status %d %s", res.status, res.body)
			}
		})
	}
	if res := a.do(http.MethodGet, "/api/order/"+order, "", adminHeaders...); res.status != 403 {
		t.Errorf("an admin key on a shop route: status %d, want 403", res.status)
	}
}

type adminProduct struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Category string  `json:"category"`
	Price    float64 `json:"price"`
	Removed  bool    `json:"removed"`
}

func TestAdminProducts(t *testing.T) {
	logs := &harness.SyncBuffer{}
	a := startAdminApp(t, logs)
	put := func(id, body string) response {
		t.Helper()
		return a.do(http.MethodPut, "/api/admin/products/"+id, body, adminHeaders...)
	}

	t.Run("PUT creates, the public catalogue serves it", func(t *testing.T) {
		res := put("50", `{"name":"Lemon Tart","category":"Tart","price":5.10,"image":"waffle"}`)
		var p adminProduct
		res.json(t, &p)
		if res.status != http.StatusCreated || p.ID != "50" || p.Name != "Lemon Tart" || p.Price != 5.10 || p.Removed {
			t.Fatalf("PUT: %d %s", res.status, res.body)
		}
		res = a.do(http.MethodGet, "/api/product/50", "")
		res.json(t, &p)
		if res.status != 200 || p.Name != "Lemon Tart" || p.Category != "Tart" || p.Price != 5.10 {
			t.Fatalf("public GET after PUT: %d %s", res.status, res.body)
		}
	})

	t.Run("PUT replaces", func(t *testing.T) {
		res := put("50", `{"id":50,"name":"Lemon Tart","category":"Tart","price":"6.00","image":"https://img.example/tart.jpg"}`)
		if res.status != http.StatusOK {
			t.Fatalf("PUT again: %d %s", res.status, res.body)
		}
		var p adminProduct
		a.do(http.MethodGet, "/api/product/50", "").json(t, &p)
		if p.Price != 6 {
			t.Errorf("price after replace %v, want 6", p.Price)
		}
	})

	t.Run("PUT checks the product as the import does", func(t *testing.T) {
		tests := []struct {
			name, id, body, code string
			fields               []string
		}{
			{"no name, no price", "51", `{"category":"Tart","image":"waffle"}`, "MISSING_FIELD", []string{"name", "price"}},
			{"a price with three decimals", "51", `{"name":"T","category":"Tart","price":5.123,"image":"waffle"}`, "INVALID_FIELD", []string{"price"}},
			{"an unknown field", "51", `{"name":"T","category":"Tart","price":5,"image":"waffle","colour":"red"}`, "INVALID_FIELD", []string{"colour"}},
			{"a picture file", "51", `{"name":"T","category":"Tart","price":5,"image":"../../etc/passwd"}`, "INVALID_FIELD", []string{"image"}},
			{"another id in the body", "51", `{"id":52,"name":"T","category":"Tart","price":5,"image":"waffle"}`, "INVALID_FIELD", []string{"id"}},
			{"not an object", "51", `[1]`, "INVALID_JSON", nil},
			{"a bad id", "0", `{"name":"T","category":"Tart","price":5,"image":"waffle"}`, "INVALID_PARAMETER", []string{"productId"}},
		}
		for _, tt := range tests {
			res := put(tt.id, tt.body)
			e := res.errorCode(t)
			var fields []string
			for _, d := range e.Details {
				fields = append(fields, d.Field)
			}
			if res.status != 400 || e.Error != tt.code || fmt.Sprint(fields) != fmt.Sprint(tt.fields) {
				t.Errorf("%s: %d %s %v, want 400 %s %v", tt.name, res.status, e.Error, fields, tt.code, tt.fields)
			}
		}
		if res := a.do(http.MethodGet, "/api/product/51", ""); res.status != 404 {
			t.Errorf("a refused PUT wrote product 51: %d", res.status)
		}
	})

	t.Run("DELETE takes it off the menu, keeps its id", func(t *testing.T) {
		if res := a.do(http.MethodDelete, "/api/admin/products/50", "", adminHeaders...); res.status != 204 {
			t.Fatalf("DELETE: %d %s", res.status, res.body)
		}
		if res := a.do(http.MethodGet, "/api/product/50", ""); res.status != 404 {
			t.Errorf("public GET after DELETE: %d, want 404", res.status)
		}
		var list []adminProduct
		a.do(http.MethodGet, "/api/product", "").json(t, &list)
		for _, p := range list {
			if p.ID == "50" {
				t.Errorf("public list still has product 50")
			}
		}
		a.do(http.MethodGet, "/api/admin/products", "", adminHeaders...).json(t, &list)
		removed := map[string]bool{}
		for _, p := range list {
			removed[p.ID] = p.Removed
		}
		if len(list) != 10 || !removed["50"] || removed["1"] {
			t.Errorf("admin list: %d products, removed %v; want the 9 seeded and 50, only 50 removed", len(list), removed)
		}
		if res := a.do(http.MethodDelete, "/api/admin/products/50", "", adminHeaders...); res.status != 204 {
			t.Errorf("DELETE again: %d, want 204 (nothing to change)", res.status)
		}
		if res := a.do(http.MethodDelete, "/api/admin/products/9999", "", adminHeaders...); res.status != 404 || res.errorCode(t).Error != "PRODUCT_NOT_FOUND" {
			t.Errorf("DELETE of an unknown id: %d %s", res.status, res.body)
		}
		if res := put("50", `{"name":"Lemon Tart","category":"Tart","price":5,"image":"waffle"}`); res.status != 200 {
			t.Errorf("PUT of a removed id: %d, want 200 (restored)", res.status)
		}
		if res := a.do(http.MethodGet, "/api/product/50", ""); res.status != 200 {
			t.Errorf("public GET after restore: %d", res.status)
		}
	})

	t.Run("every change is an audit line with the admin key id, and counted", func(t *testing.T) {
		var lines []map[string]any
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["audit"] != nil {
				lines = append(lines, m)
			}
		}
		var got []string
		for _, m := range lines {
			got = append(got, fmt.Sprintf("%v %v %v %v", m["audit"], m["admin_key_id"], m["product_id"], m["outcome"]))
		}
		want := []string{
			"product.put ops 50 created", "product.put ops 50 replaced", "product.delete ops 50 removed",
			"product.delete ops 50 unchanged", "product.put ops 50 restored",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("audit lines %q, want %q", got, want)
		}
		for _, m := range lines {
			if m["module"] != "admin_api" || m["correlation_id"] == "" || strings.Contains(fmt.Sprint(m), "admintest") {
				t.Errorf("audit line %v: want module admin_api, a correlation id and no key", m)
			}
		}
		metrics := a.do(http.MethodGet, "/metrics", "")
		if !strings.Contains(string(metrics.body), `admin_api_changes_total{action="put",outcome="created",resource="product"} 1`) {
			t.Errorf("metrics lack the counted change")
		}
	})
}

type orderSummary struct {
	ID         string  `json:"id"`
	CreatedAt  string  `json:"createdAt"`
	KeyID      string  `json:"keyId"`
	CouponCode string  `json:"couponCode"`
	Total      float64 `json:"total"`
	Discounts  float64 `json:"discounts"`
	ItemCount  int     `json:"itemCount"`
}

// seedOrders writes n orders straight into the database, one an hour back
// from at, cycling through keys and coupons, each of one item of 10.00 and
// a 1.00 discount with a coupon.
func seedOrders(t *testing.T, a *testApp, n int, at time.Time, keys, coupons []string) {
	t.Helper()
	const q = `
		WITH o AS (
			INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents, api_key_id, created_at)
			SELECT gen_random_uuid(), c, 1000, CASE WHEN c IS NULL THEN 0 ELSE 100 END,
			       CASE WHEN c IS NULL THEN 1000 ELSE 900 END, k, $1::timestamptz - make_interval(hours => g)
			FROM generate_series(0, $2 - 1) AS g,
			     LATERAL (SELECT ($3::text[])[1 + g % cardinality($3::text[])] AS k,
			                     NULLIF(($4::text[])[1 + g % cardinality($4::text[])], '') AS c) AS pick
			RETURNING id)
		INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents, product_name, product_category)
		SELECT id, 0, 1, 1, 1000, 'Waffle with Berries', 'Waffle' FROM o`
	if _, err := a.db.Exec(q, at, n, keys, coupons); err != nil {
		t.Fatal(err)
	}
}

var nextPage = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// walk follows next links from path and returns every order seen.
func walk(t *testing.T, a *testApp, path string) (orders []orderSummary, pages int) {
	t.Helper()
	for path != "" {
		res := a.do(http.MethodGet, path, "", adminHeaders...)
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		var page []orderSummary
		res.json(t, &page)
		orders = append(orders, page...)
		pages++
		path = ""
		if l := res.header.Get("Link"); l != "" {
			m := nextPage.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q is not <url>; rel=\"next\"", l)
			}
			path = m[1]
		}
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
	}
	return orders, pages
}

func TestAdminOrders(t *testing.T) {
	a := startApp(t, nil)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	seedOrders(t, a, 30, at, []string{"demo", "pos"}, []string{"HAPPYHRS", "", "FIFTYOFF"})
	placed := a.order(`{"couponCode":"happyhrs","items":[{"productId":"1","quantity":2}]}`)
	if placed.status != 200 {
		t.Fatalf("place an order: %d %s", placed.status, placed.body)
	}
	var own struct {
		ID string `json:"id"`
	}
	placed.json(t, &own)

	t.Run("the cursor walk sees every order once, newest first", func(t *testing.T) {
		orders, pages := walk(t, a, "/api/admin/orders?limit=4")
		if len(orders) != 31 || pages != 8 {
			t.Fatalf("walked %d orders in %d pages, want 31 in 8", len(orders), pages)
		}
		seen := map[string]bool{}
		for i, o := range orders {
			if seen[o.ID] {
				t.Errorf("order %s seen twice", o.ID)
			}
			seen[o.ID] = true
			if i > 0 && o.CreatedAt > orders[i-1].CreatedAt {
				t.Errorf("order %d (%s) is newer than the one before (%s)", i, o.CreatedAt, orders[i-1].CreatedAt)
			}
			if o.ItemCount != 1 && o.ID != own.ID {
				t.Errorf("order %s has %d items", o.ID, o.ItemCount)
			}
		}
		if orders[0].ID != own.ID || orders[0].CouponCode != "HAPPYHRS" || orders[0].KeyID != "demo" {
			t.Errorf("newest %+v, want the order placed just now, HAPPYHRS by demo", orders[0])
		}
	})

	t.Run("filters, combined with the walk", func(t *testing.T) {
		tests := []struct {
			query string
			want  int
		}{
			{"coupon=happyhrs", 11},
			{"coupon=FIFTYOFF&key=pos", 5},
			{"key=pos", 15},
			{"from=2026-03-10T03:00:00Z&to=2026-03-10T12:00:00Z", 9},
			{"from=2026-03-10&to=2026-03-11&coupon=HAPPYHRS", 5},
		}
		for _, tt := range tests {
			orders, _ := walk(t, a, "/api/admin/orders?limit=2&"+tt.query)
			if len(orders) != tt.want {
				t.Errorf("%s: %d orders, want %d", tt.query, len(orders), tt.want)
			}
		}
		for _, q := range []string{"from=yesterday", "from=2026-03-10&to=2026-03-09", "after=bm9wZQ", "limit=501", "coupon=a&coupon=b"} {
			if res := a.do(http.MethodGet, "/api/admin/orders?"+q, "", adminHeaders...); res.status != 400 || res.errorCode(t).Error != "INVALID_PARAMETER" {
				t.Errorf("%s: %d %s, want 400 INVALID_PARAMETER", q, res.status, res.body)
			}
		}
	})

	t.Run("any order by id", func(t *testing.T) {
		res := a.do(http.MethodGet, "/api/admin/orders/"+own.ID, "", adminHeaders...)
		var o struct {
			Order struct {
				ID    string  `json:"id"`
				Total float64 `json:"total"`
			} `json:"order"`
			KeyID      string `json:"keyId"`
			CouponCode string `json:"couponCode"`
		}
		res.json(t, &o)
		if res.status != 200 || o.Order.ID != own.ID || o.KeyID != "demo" || o.CouponCode != "HAPPYHRS" || o.Order.Total != 10.66 {
			t.Errorf("GET: %d %s", res.status, res.body)
		}
		if res := a.do(http.MethodGet, "/api/admin/orders/00000000-0000-4000-8000-000000000009", "", adminHeaders...); res.status != 404 || res.errorCode(t).Error != "ORDER_NOT_FOUND" {
			t.Errorf("unknown order: %d %s", res.status, res.body)
		}
	})

	t.Run("totals by day and by coupon", func(t *testing.T) {
		type totals struct {
			By     string `json:"by"`
			Totals []struct {
				Key       string  `json:"key"`
				Orders    int     `json:"orders"`
				Subtotal  float64 `json:"subtotal"`
				Discounts float64 `json:"discounts"`
				Total     float64 `json:"total"`
			} `json:"totals"`
		}
		var day totals
		a.do(http.MethodGet, "/api/admin/reports/totals?from=2026-03-08&to=2026-03-11", "", adminHeaders...).json(t, &day)
		// 30 orders an hour apart back from 12:00 on the 10th: 13 on the
		// 10th (00:00 to 12:00), 17 on the 9th; every third without a coupon.
		got := fmt.Sprint(day.Totals)
		if want := "[{2026-03-10 13 130 9 121} {2026-03-09 17 170 11 159}]"; day.By != "day" || got != want {
			t.Errorf("by day %s, want %s", got, want)
		}
		var coupon totals
		a.do(http.MethodGet, "/api/admin/reports/totals?by=coupon&from=2026-03-01&to=2026-03-11", "", adminHeaders...).json(t, &coupon)
		if want := "[{ 10 100 0 100} {FIFTYOFF 10 100 10 90} {HAPPYHRS 10 100 10 90}]"; fmt.Sprint(coupon.Totals) != want {
			t.Errorf("by coupon %v, want %s", coupon.Totals, want)
		}
		if res := a.do(http.MethodGet, "/api/admin/reports/totals?from=2020-01-01&to=2026-01-01", "", adminHeaders...); res.status != 400 {
			t.Errorf("a range over max_report_days: %d, want 400", res.status)
		}
	})
}

// TestAdminOrderReadsUseIndexes fills orders with two years of orders and
// checks that listing, filtering, walking and reporting read orders through
// indexes: EXPLAIN of the very statement each request ran (taken from
// pg_stat_activity, with the request's values) shows an index scan and no
// Seq Scan on orders, and PostgreSQL's own counters show no sequential
// scan of orders over all the requests.
func TestAdminOrderReadsUseIndexes(t *testing.T) {
	a := startApp(t, nil)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	seedOrders(t, a, 20000, at, []string{"demo", "pos", "kiosk", "app", "web"}, []string{"", "", "", "HAPPYHRS", "FIFTYOFF", "SIXTYOFF", "BUYGETON"})
	if _, err := a.db.Exec(`ANALYZE orders; ANALYZE order_items`); err != nil {
		t.Fatal(err)
	}
	scans := func() (seq, idx int64) {
		t.Helper()
		// Backends publish their counters when idle; a fresh snapshot each time.
		if err := a.db.QueryRow(`SELECT pg_stat_clear_snapshot() IS NULL, seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'orders'`).Scan(new(bool), &seq, &idx); err != nil {
			t.Fatal(err)
		}
		return seq, idx
	}
	// explain plans the statement the server ran for path, the last one
	// containing marker, with args (SQL literals) for its parameters. The
	// statement is read from another database's session, since the server's
	// own connection may be the one that runs the EXPLAIN. pg_stat_activity
	// shows each connection's last statement only, and the server's
	// background work (health checks) may take that connection first: then
	// the request is sent again.
	watcher, dbName := adminDB(t), a.databaseName()
	explain := func(path, marker string, args []string) string {
		t.Helper()
		ctx := context.Background()
		var q string
		const qLast = `
			SELECT query FROM pg_stat_activity
			WHERE datname = $1 AND query LIKE '%' || $2 || '%'
			ORDER BY state_change DESC LIMIT 1`
		for attempt := 1; ; attempt++ {
			if res := a.do(http.MethodGet, path, "", adminHeaders...); res.status != 200 {
				t.Fatalf("GET %s: %d %s", path, res.status, res.body)
			}
			err := watcher.GetContext(ctx, &q, qLast, dbName, marker)
			if err == nil {
				break
			}
			if attempt == 10 {
				t.Fatalf("no statement with %q in pg_stat_activity after %d requests: %v", marker, attempt, err)
			}
		}
		conn, err := a.db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "PREPARE admin_read AS "+q); err != nil {
			t.Fatalf("prepare %s: %v", q, err)
		}
		defer conn.ExecContext(ctx, "DEALLOCATE admin_read")
		var lines []string
		if err := conn.SelectContext(ctx, &lines, "EXPLAIN EXECUTE admin_read("+strings.Join(args, ", ")+")"); err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		return strings.Join(lines, "\n")
	}
	const list, report = "ORDER BY o.created_at DESC", "GROUP BY 1"
	reads := []struct {
		path   string
		marker string
		args   []string // the statement's parameters, in the order the store binds them
	}{
		{"/api/admin/orders", list, []string{"51"}},
		{"/api/admin/orders?coupon=HAPPYHRS", list, []string{"'HAPPYHRS'", "51"}},
		{"/api/admin/orders?key=kiosk", list, []string{"'kiosk'", "51"}},
		{"/api/admin/orders?from=2025-06-01&to=2025-06-03", list, []string{"'2025-06-01Z'", "'2025-06-03Z'", "51"}},
		{"/api/admin/orders?coupon=FIFTYOFF&key=pos&limit=5", list, []string{"'FIFTYOFF'", "'pos'", "6"}},
		{"/api/admin/orders?limit=5&after=" + url.QueryEscape(pagingCursor(t, "2025-12-01T00:00:00Z", "00000000-0000-4000-8000-000000000000")), list,
			[]string{"'2025-12-01Z'", "'00000000-0000-4000-8000-000000000000'", "6"}},
		{"/api/admin/reports/totals?from=2026-02-08&to=2026-03-10", report, []string{"'2026-02-08Z'", "'2026-03-10Z'"}},
		{"/api/admin/reports/totals?by=coupon&from=2025-01-01&to=2025-01-15", report, []string{"'2025-01-01Z'", "'2025-01-15Z'"}},
	}
	seq0, idx0 := scans()
	for _, r := range reads {
		plan := explain(r.path, r.marker, r.args)
		if !strings.Contains(plan, "Index") || strings.Contains(plan, "Seq Scan on orders") {
			t.Errorf("GET %s is planned without an index on orders:\n%s", r.path, plan)
		}
	}
	var seq, idx int64
	waitFor(t, "the server's index scans to show in pg_stat_user_tables", func() bool {
		seq, idx = scans()
		return idx >= idx0+int64(len(reads))
	})
	if seq != seq0 {
		t.Errorf("orders was scanned sequentially %d times by %d reads", seq-seq0, len(reads))
	}
}

// pagingCursor is the cursor of a next link after the order placed at at
// with id id, made as the server makes it, to start a walk mid-list.
func pagingCursor(t *testing.T, at, id string) string {
	t.Helper()
	when, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	return paging.Encode(ordering.OrderPosition{CreatedAt: when, ID: uuid.MustParse(id)})
}
