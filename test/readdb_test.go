package test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
)

// TestCatalogueReadsUseTheReadDatabase gives the server a read database
// that lags the primary (product 1 has an older name and price there): the
// catalogue's listing and detail come from it, while an order is priced and
// stored on the primary.
func TestCatalogueReadsUseTheReadDatabase(t *testing.T) {
	readURL := newDatabase(t)
	read, err := sqlx.Open("pgx", readURL)
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	if _, err := read.Exec(`UPDATE products SET name = 'Waffle (stale)', price_cents = 99900 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, map[string]any{"database.read_url": readURL})

	var product struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	r := a.do(http.MethodGet, "/api/product/1", "")
	r.json(t, &product)
	if r.status != 200 || product.Name != "Waffle (stale)" || product.Price != 999 {
		t.Errorf("GET /api/product/1: %d %s; want the read database's row", r.status, r.body)
	}
	var list []struct {
		Name string `json:"name"`
	}
	r = a.do(http.MethodGet, "/api/product?limit=1", "")
	r.json(t, &list)
	if r.status != 200 || len(list) != 1 || list[0].Name != "Waffle (stale)" {
		t.Errorf("GET /api/product: %d %s; want the read database's rows", r.status, r.body)
	}

	var order struct {
		Total float64 `json:"total"`
	}
	r = a.order(`{"items":[{"productId":"1","quantity":2}]}`)
	r.json(t, &order)
	if r.status != 200 || order.Total != 13 {
		t.Errorf("order: %d %s; want 200 priced from the primary (2 × 6.50)", r.status, r.body)
	}
	var onRead int
	if err := read.Get(&onRead, `SELECT count(*) FROM orders`); err != nil {
		t.Fatal(err)
	}
	if n := a.count("orders"); n != 1 || onRead != 0 {
		t.Errorf("%d orders on the primary, %d on the read database; want 1 and 0", n, onRead)
	}
	if r := a.do(http.MethodGet, "/readyz", ""); r.status != 200 {
		t.Errorf("readyz with both pools up: %d %s", r.status, r.body)
	}
}

// TestReadDatabaseDownDegrades drops the read database under a running
// server: /health says degraded, the server stays ready, and orders, which
// never use it, still succeed.
func TestReadDatabaseDownDegrades(t *testing.T) {
	readURL := newDatabase(t)
	a := startApp(t, map[string]any{"database.read_url": readURL})
	var name string
	read, err := sqlx.Open("pgx", readURL)
	if err != nil {
		t.Fatal(err)
	}
	err = read.Get(&name, `SELECT current_database()`)
	read.Close()
	if err != nil {
		t.Fatal(err)
	}
	admin := adminDB(t)
	if _, err := admin.Exec(`DROP DATABASE "` + name + `" WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}

	var health struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r := a.waitFor("/health", func(r response) bool { return strings.Contains(string(r.body), "degraded") })
	r.json(t, &health)
	if r.status != 200 || health.Status != "degraded" || health.Checks["database"] != "degraded: read database not reachable" {
		t.Errorf("/health with the read database gone: %d %s; want 200 degraded", r.status, r.body)
	}
	if r := a.do(http.MethodGet, "/readyz", ""); r.status != 200 {
		t.Errorf("/readyz with the read database gone: %d %s; want 200 (orders still work)", r.status, r.body)
	}
	if r := a.order(`{"items":[{"productId":"1","quantity":1}]}`); r.status != 200 {
		t.Errorf("order with the read database gone: %d %s; want 200", r.status, r.body)
	}
}
