package test

import (
	"bytes"
	"image"
	_ "image/jpeg" // decodes the served pictures
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

type product struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Price    float64 `json:"price"`
	Category string  `json:"category"`
	Image    struct {
		Thumbnail string `json:"thumbnail"`
		Mobile    string `json:"mobile"`
		Tablet    string `json:"tablet"`
		Desktop   string `json:"desktop"`
	} `json:"image"`
}

var seeded = []struct {
	name, category, slug string
	price                float64
}{
	{"Waffle with Berries", "Waffle", "waffle", 6.50},
	{"Vanilla Bean Crème Brûlée", "Crème Brûlée", "creme-brulee", 7.00},
	{"Macaron Mix of Five", "Macaron", "macaron", 8.00},
	{"Classic Tiramisu", "Tiramisu", "tiramisu", 5.50},
	{"Pistachio Baklava", "Baklava", "baklava", 4.00},
	{"Lemon Meringue Pie", "Pie", "meringue", 5.00},
	{"Red Velvet Cake", "Cake", "cake", 4.50},
	{"Salted Caramel Brownie", "Brownie", "brownie", 4.50},
	{"Vanilla Panna Cotta", "Panna Cotta", "panna-cotta", 6.50},
}

func TestListProducts(t *testing.T) {
	a := startApp(t, map[string]any{"catalog.image_base_url": "https://img.example.test/public/"})
	res := a.do(http.MethodGet, "/api/product", "")
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if got := res.header.Get("X-Total-Count"); got != "9" {
		t.Errorf("X-Total-Count = %q, want 9", got)
	}
	var ps []product
	res.json(t, &ps)
	if len(ps) != len(seeded) {
		t.Fatalf("got %d products, want %d", len(ps), len(seeded))
	}
	for i, want := range seeded {
		p := ps[i]
		if p.ID != strconv.Itoa(i+1) || p.Name != want.name || p.Category != want.category || p.Price != want.price {
			t.Errorf("product %d = %+v, want %+v", i, p, want)
		}
		base := "https://img.example.test/public/images/image-" + want.slug + "-"
		if p.Image.Thumbnail != base+"thumbnail.jpg" || p.Image.Mobile != base+"mobile.jpg" ||
			p.Image.Tablet != base+"tablet.jpg" || p.Image.Desktop != base+"desktop.jpg" {
			t.Errorf("product %d images = %+v, want prefix %s", i, p.Image, base)
		}
	}
}

func TestListProductsPaging(t *testing.T) {
	a := startApp(t, nil)
	tests := []struct {
		query   string
		status  int
		ids     []string
		errCode string
	}{
		{"?limit=2", 200, []string{"1", "2"}, ""},
		{"?limit=3&offset=7", 200, []string{"8", "9"}, ""},
		{"?offset=9", 200, []string{}, ""},
		{"?offset=100", 200, []string{}, ""},
		{"?limit=1000", 200, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, ""},
		{"?limit=0", 400, nil, "INVALID_PARAMETER"},
		{"?limit=1001", 400, nil, "INVALID_PARAMETER"},
		{"?limit=abc", 400, nil, "INVALID_PARAMETER"},
		{"?limit=", 400, nil, "INVALID_PARAMETER"},
		{"?offset=-1", 400, nil, "INVALID_PARAMETER"},
		{"?offset=1.5", 400, nil, "INVALID_PARAMETER"},
		{"?limit=99999999999999999999", 400, nil, "INVALID_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := a.do(http.MethodGet, "/api/product"+tt.query, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.errCode != "" {
				if e := res.errorCode(t); e.Error != tt.errCode || len(e.Details) == 0 {
					t.Errorf("error %+v, want %s with details", e, tt.errCode)
				}
				return
			}
			var ps []product
			res.json(t, &ps)
			got := []string{}
			for _, p := range ps {
				got = append(got, p.ID)
			}
			if strconv.Quote(join(got)) != strconv.Quote(join(tt.ids)) {
				t.Errorf("ids %v, want %v", got, tt.ids)
			}
			if res.header.Get("X-Total-Count") != "9" {
				t.Errorf("X-Total-Count = %q, want 9", res.header.Get("X-Total-Count"))
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x + ","
	}
	return out
}

func TestGetProduct(t *testing.T) {
	a := startApp(t, nil)
	tests := []struct {
		path, name string
		status     int
		errCode    string
	}{
		{"/api/product/1", "Waffle with Berries", 200, ""},
		{"/api/product/9", "Vanilla Panna Cotta", 200, ""},
		{"/api/product/9/", "Vanilla Panna Cotta", 200, ""},
		{"/api/product/10", "", 404, "PRODUCT_NOT_FOUND"},
		{"/api/product/0", "", 404, "PRODUCT_NOT_FOUND"},
		{"/api/product/-1", "", 404, "PRODUCT_NOT_FOUND"},
		{"/api/product/9223372036854775807", "", 404, "PRODUCT_NOT_FOUND"},
		{"/api/product/9223372036854775808", "", 400, "INVALID_PARAMETER"},
		{"/api/product/abc", "", 400, "INVALID_PARAMETER"},
		{"/api/product/1.5", "", 400, "INVALID_PARAMETER"},
		{"/api/product/%20", "", 400, "INVALID_PARAMETER"},
		{"/api/product/1%27%20OR%201=1", "", 400, "INVALID_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := a.do(http.MethodGet, tt.path, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.errCode != "" {
				if e := res.errorCode(t); e.Error != tt.errCode {
					t.Errorf("error %q, want %q", e.Error, tt.errCode)
				}
				return
			}
			var p product
			res.json(t, &p)
			if p.Name != tt.name {
				t.Errorf("name %q, want %q", p.Name, tt.name)
			}
		})
	}
}

// TestStaleCacheNeverPricesAnOrder: orders are priced from the catalogue's
// cache, and the order's statement checks those prices where it writes; a
// cache the menu has left behind writes nothing, and the order is priced
// again from the database.
func TestStaleCacheNeverPricesAnOrder(t *testing.T) {
	a := startApp(t, map[string]any{"catalog.cache_ttl": "1h"})
	// The listener invalidates the cache once it listens; the snapshot the
	// test relies on must be read after that.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN catalog_changed'`); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the catalogue's change listener never connected")
		}
	}
	var before product
	a.do(http.MethodGet, "/api/product/4", "").json(t, &before)
	// Without the change notification (as while the listener reconnects)
	// the cache keeps the old menu for its TTL.
	if _, err := a.db.Exec(`DROP TRIGGER products_changed ON products`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Exec(`UPDATE products SET name = 'Tiramisu, renamed', price_cents = 600 WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	var cached product
	a.do(http.MethodGet, "/api/product/4", "").json(t, &cached)
	if cached.Name != before.Name || cached.Price != 5.50 {
		t.Errorf("within the TTL GET served %+v, want the cached %+v", cached, before)
	}
	var o orderResp
	res := a.order(`{"items":[{"productId":"4","quantity":2}]}`)
	res.json(t, &o)
	if res.status != 200 || o.Total != 12.00 || o.Products[0].Price != 6.00 || o.Products[0].Name != "Tiramisu, renamed" {
		t.Fatalf("order priced %v (%+v), want the database's 6.00 a unit and its name", o.Total, o.Products)
	}
	var stored int64
	if err := a.db.QueryRow(`SELECT unit_price_cents FROM order_items WHERE order_id = $1`, o.ID).Scan(&stored); err != nil || stored != 600 {
		t.Errorf("stored unit price %d, %v; want 600", stored, err)
	}
	repriced := func() string {
		for _, l := range strings.Split(string(a.do(http.MethodGet, "/metrics", "").body), "\n") {
			if strings.HasPrefix(l, "orders_repriced_total ") {
				return l
			}
		}
		return "none"
	}
	if got := repriced(); got != "orders_repriced_total 1" {
		t.Errorf("metric %q after the stale order, want orders_repriced_total 1", got)
	}
	// A product the cache still has right is priced from it, first time.
	if res := a.order(`{"items":[{"productId":"1","quantity":1}]}`); res.status != 200 || repriced() != "orders_repriced_total 1" {
		t.Errorf("order of an unchanged product: %d %s, metric %q; want 200 and no repricing", res.status, res.body, repriced())
	}
}

// imageURLs lists every picture link of every product.
func imageURLs(ps []product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Image.Thumbnail, p.Image.Mobile, p.Image.Tablet, p.Image.Desktop)
	}
	return out
}

func TestStockServerServesEveryProductImage(t *testing.T) {
	a := startApp(t, nil)
	res := a.do(http.MethodGet, "/api/product", "")
	var ps []product
	res.json(t, &ps)
	urls := imageURLs(ps)
	if len(urls) != 4*len(seeded) {
		t.Fatalf("%d image URLs", len(urls))
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, a.base+"/api/images/") {
			t.Errorf("image URL %q is not served by %s", u, a.base)
			continue
		}
		img := a.do(http.MethodGet, strings.TrimPrefix(u, a.base), "", "Origin", "https://shop.example")
		ct := img.header.Get("Content-Type")
		if img.status != http.StatusOK || !strings.HasPrefix(ct, "image/") || len(img.body) == 0 {
			t.Errorf("%s: %d %q, %d bytes", u, img.status, ct, len(img.body))
			continue
		}
		if _, _, err := image.Decode(bytes.NewReader(img.body)); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		if img.header.Get("Access-Control-Allow-Origin") == "" || img.header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
			t.Errorf("%s: not readable cross-origin: %v", u, img.header)
		}
		etag := img.header.Get("ETag")
		again := a.do(http.MethodGet, strings.TrimPrefix(u, a.base), "", "If-None-Match", etag)
		if etag == "" || again.status != http.StatusNotModified || len(again.body) != 0 {
			t.Errorf("%s: revalidation with %q got %d", u, etag, again.status)
		}
	}
}

func TestImageLinksFollowPublicURLAndTrustedProxies(t *testing.T) {
	t.Run("server.public_url", func(t *testing.T) {
		a := startApp(t, map[string]any{"server.public_url": "https://kart.example/"})
		var p product
		a.do(http.MethodGet, "/api/product/1", "").json(t, &p)
		if p.Image.Desktop != "https://kart.example/api/images/image-waffle-desktop.jpg" {
			t.Errorf("desktop = %q", p.Image.Desktop)
		}
	})
	t.Run("forwarded headers from a trusted proxy only", func(t *testing.T) {
		fwd := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example"}
		trusted := startApp(t, map[string]any{"server.trusted_proxies": []string{"127.0.0.1"}})
		var p product
		trusted.do(http.MethodGet, "/api/product/1", "", fwd...).json(t, &p)
		if p.Image.Thumbnail != "https://shop.example/api/images/image-waffle-thumbnail.jpg" {
			t.Errorf("behind a trusted proxy: %q", p.Image.Thumbnail)
		}
		untrusted := startApp(t, nil)
		untrusted.do(http.MethodGet, "/api/product/1", "", fwd...).json(t, &p)
		if p.Image.Thumbnail != untrusted.base+"/api/images/image-waffle-thumbnail.jpg" {
			t.Errorf("from an untrusted peer: %q", p.Image.Thumbnail)
		}
	})
}

// TestHeadAnswersLikeGet: caches, CDNs and link checkers ask with HEAD; they
// get GET's status and headers without the body.
func TestHeadAnswersLikeGet(t *testing.T) {
	a := startApp(t, nil)
	for _, path := range []string{"/api/images/image-waffle-thumbnail.jpg", "/api/product/1", "/health"} {
		get, err := http.Get(a.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(get.Body)
		get.Body.Close()
		head, err := http.Head(a.base + path)
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(head.Body)
		head.Body.Close()
		if head.StatusCode != get.StatusCode || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
			head.Header.Get("ETag") != get.Header.Get("ETag") || len(rest) != 0 {
			t.Errorf("HEAD %s = %d %q etag %q with %d body bytes; GET = %d %q etag %q",
				path, head.StatusCode, head.Header.Get("Content-Type"), head.Header.Get("ETag"), len(rest),
				get.StatusCode, get.Header.Get("Content-Type"), get.Header.Get("ETag"))
		}
		if cl := head.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
			t.Errorf("HEAD %s Content-Length %s, GET body %d bytes", path, cl, len(body))
		}
	}
}

// TestTotalFollowsEveryChange checks the total the products triggers keep
// against a count of the table, with the cache off, after each kind of
// write: rows added, removed, restored, deleted, and a statement that
// touches no row.
func TestTotalFollowsEveryChange(t *testing.T) {
	a := startApp(t, map[string]any{"catalog.cache_ttl": "0s"})
	steps := []string{
		`INSERT INTO products (name, category, price_cents, image_slug) SELECT 'P' || g, 'Cake', 100, 'cake' FROM generate_series(1, 5) g`,
		`UPDATE products SET removed_at = now() WHERE id IN (2, 3)`,
		`UPDATE products SET price_cents = price_cents + 1`,
		`UPDATE products SET removed_at = NULL WHERE id = 2`,
		`DELETE FROM products WHERE id > 12`,
		`UPDATE products SET removed_at = now() WHERE id < 0`,
	}
	for _, step := range steps {
		a.db.MustExec(step)
		var want int
		if err := a.db.Get(&want, `SELECT count(*) FROM products WHERE removed_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/product?limit=1", "/api/product?offset=1000"} {
			if got := a.do(http.MethodGet, path, "").header.Get("X-Total-Count"); got != strconv.Itoa(want) {
				t.Errorf("after %.50q: GET %s X-Total-Count %s, want %d", step, path, got, want)
			}
		}
	}
}

// searchMenu adds products whose names and categories differ in case and
// accents from the searches below.
func searchMenu(t *testing.T, a *testApp) {
	t.Helper()
	a.db.MustExec(`INSERT INTO products (id, name, category, price_cents, image_slug) VALUES
		(10, 'Belgian WAFFLE', 'waffle', 500, 'waffle'),
		(11, 'Crème Brûlée Waffle', 'Crème Brûlée', 700, 'waffle'),
		(12, '100% Cocoa_Cake', 'Cake', 400, 'cake')`)
}

func TestSearchProducts(t *testing.T) {
	for _, ttl := range []string{"0s", "1h"} {
		t.Run("cache_ttl="+ttl, func(t *testing.T) {
			a := startApp(t, map[string]any{"catalog.cache_ttl": ttl})
			searchMenu(t, a)
			tests := []struct {
				query string
				ids   []string
				total string
			}{
				{"?category=Waffle", []string{"1", "10"}, "2"},
				{"?category=WAFFLE&limit=1", []string{"1"}, "2"},
				{"?category=crème%20brûlée", []string{"2", "11"}, "2"},
				{"?category=Waff", []string{}, "0"},
				{"?q=waff", []string{"1", "10", "11"}, "3"},
				{"?q=WAFF&offset=1&limit=1", []string{"10"}, "3"},
				{"?q=creme%20brul", []string{"2", "11"}, "2"},
				{"?q=BRÛLÉE&category=Waffle", []string{}, "0"},
				{"?q=waffle&category=cr%C3%A8me%20br%C3%BBl%C3%A9e", []string{"11"}, "1"},
				{"?q=100%25", []string{"12"}, "1"},
				{"?q=a_c", []string{"12"}, "1"},
				{"?q=o%25c", []string{}, "0"},
				{"?q=%20%20&limit=2", []string{"1", "2"}, "12"},
			}
			for _, tt := range tests {
				res := a.do(http.MethodGet, "/api/product"+tt.query, "")
				var ps []product
				res.json(t, &ps)
				got := []string{}
				for _, p := range ps {
					got = append(got, p.ID)
				}
				if res.status != 200 || strings.Join(got, ",") != strings.Join(tt.ids, ",") || res.header.Get("X-Total-Count") != tt.total {
					t.Errorf("%s: %d %v of %s, want %v of %s", tt.query, res.status, got, res.header.Get("X-Total-Count"), tt.ids, tt.total)
				}
			}
			for _, bad := range []string{"?q=a&q=b", "?category=" + strings.Repeat("x", 201), "?q=%01", "?after=x", "?after=eyJpZCI6MX0&offset=1"} {
				if res := a.do(http.MethodGet, "/api/product"+bad, ""); res.status != 400 || res.errorCode(t).Error != "INVALID_PARAMETER" {
					t.Errorf("%.40s: %d %s, want 400 INVALID_PARAMETER", bad, res.status, res.body)
				}
			}
		})
	}
}

// nextLink returns the target of a Link rel="next" header, or "".
func nextLink(t *testing.T, h http.Header) string {
	t.Helper()
	l := h.Get("Link")
	if l == "" {
		return ""
	}
	target, ok := strings.CutSuffix(l, `>; rel="next"`)
	if !ok || !strings.HasPrefix(target, "</api/product?") {
		t.Fatalf("Link %q, want </api/product?…>; rel=\"next\"", l)
	}
	return target[1:]
}

// TestCursorPagesSeeEveryProductOnce walks the next links two products at
// a time while products are added and removed between pages: each product
// on sale throughout is seen exactly once, none twice, and an offset page
// links on by cursor.
func TestCursorPagesSeeEveryProductOnce(t *testing.T) {
	for _, ttl := range []string{"0s", "1h"} {
		t.Run("cache_ttl="+ttl, func(t *testing.T) {
			a := startApp(t, map[string]any{"catalog.cache_ttl": ttl})
			seen := map[string]int{}
			path := "/api/product?limit=2"
			changes := []string{
				`UPDATE products SET removed_at = now() WHERE id = 1`, // already seen
				`INSERT INTO products (id, name, category, price_cents, image_slug) VALUES (20, 'New', 'Cake', 100, 'cake')`,
				`UPDATE products SET removed_at = now() WHERE id = 8`, // not seen yet
				`INSERT INTO products (id, name, category, price_cents, image_slug) VALUES (3000, 'Newer', 'Cake', 100, 'cake')`,
			}
			for pages := 0; path != ""; pages++ {
				if pages > 20 {
					t.Fatal("the walk does not end")
				}
				res := a.do(http.MethodGet, path, "")
				var ps []product
				res.json(t, &ps)
				if res.status != 200 || len(ps) == 0 {
					t.Fatalf("GET %s: %d %s", path, res.status, res.body)
				}
				for _, p := range ps {
					seen[p.ID]++
				}
				if pages < len(changes) {
					a.db.MustExec(changes[pages])
					if ttl != "0s" {
						waitForCatalogue(t, a, changes[pages])
					}
				}
				path = nextLink(t, res.header)
			}
			for _, id := range []string{"2", "3", "4", "5", "6", "7", "9", "20", "3000"} {
				if seen[id] != 1 {
					t.Errorf("product %s seen %d times, want once (seen: %v)", id, seen[id], seen)
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("product %s seen %d times", id, n)
				}
			}
			res := a.do(http.MethodGet, "/api/product?limit=3&offset=3", "")
			if next := nextLink(t, res.header); next == "" || strings.Contains(next, "offset") {
				t.Errorf("offset page links to %q, want a cursor link without offset", next)
			}
			if res := a.do(http.MethodGet, "/api/product?limit=1000", ""); res.header.Get("Link") != "" {
				t.Errorf("the last page links to %q", res.header.Get("Link"))
			}
		})
	}
}

// waitForCatalogue waits until the change notification reached the cache,
// so the next page sees the change as the database does.
func waitForCatalogue(t *testing.T, a *testApp, change string) {
	t.Helper()
	var want int
	if err := a.db.Get(&want, `SELECT count(*) FROM products WHERE removed_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if a.do(http.MethodGet, "/api/product?limit=1", "").header.Get("X-Total-Count") == strconv.Itoa(want) {
			return
		}
	}
	t.Fatalf("the cache did not see %q", change)
}

// TestListRevalidatesOverHTTP: a browser keeps the whole list (ETag,
// no-cache) and asks again with If-None-Match: 304 without a body while the
// menu stands, the new list once a price changes.
func TestListRevalidatesOverHTTP(t *testing.T) {
	a := startApp(t, map[string]any{"catalog.cache_ttl": "50ms"})
	first := a.do(http.MethodGet, "/api/product", "")
	etag := first.header.Get("ETag")
	if first.status != http.StatusOK || etag == "" || first.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("first: %d, ETag %q, Cache-Control %q", first.status, etag, first.header.Get("Cache-Control"))
	}
	again := a.do(http.MethodGet, "/api/product", "", "If-None-Match", etag)
	if again.status != http.StatusNotModified || len(again.body) != 0 || again.header.Get("ETag") != etag {
		t.Fatalf("revalidated: %d with %d bytes, ETag %q; want 304, empty, %s", again.status, len(again.body), again.header.Get("ETag"), etag)
	}
	a.db.MustExec(`UPDATE products SET price_cents = 999 WHERE id = 1`)
	changed := a.waitFor("/api/product", func(r response) bool { return strings.Contains(string(r.body), "9.99") })
	if changed.header.Get("ETag") == etag {
		t.Fatalf("the list changed but kept the tag %s", etag)
	}
	if res := a.do(http.MethodGet, "/api/product", "", "If-None-Match", etag); res.status != http.StatusOK || !strings.Contains(string(res.body), "9.99") {
		t.Errorf("with the old tag after the change: %d, want 200 with the new price", res.status)
	}
}
