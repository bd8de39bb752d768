package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"

	"minikart/modules/catalog"
)

// fillMenu adds products 10..n beside the nine the migrations seed, the
// way a grown menu looks: a few categories, built-in pictures.
func fillMenu(tb testing.TB, url string, n int) {
	tb.Helper()
	dbx, err := sqlx.Connect("pgx", url)
	if err != nil {
		tb.Fatal(err)
	}
	defer dbx.Close()
	const q = `
		INSERT INTO products (id, name, category, price_cents, image_slug)
		SELECT g, 'Grown Product ' || g, (ARRAY['Waffle', 'Cake', 'Pie', 'Macaron'])[1 + g % 4], 100 + g % 900, 'waffle'
		FROM generate_series(10, $1::bigint) AS g`
	if _, err := dbx.Exec(q, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := dbx.Exec(`SELECT setval(pg_get_serial_sequence('products', 'id'), $1::bigint)`, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := dbx.Exec(`VACUUM ANALYZE products`); err != nil {
		tb.Fatal(err)
	}
}

// benchApp is a running app and its catalogue service, for a benchmark.
type benchApp struct {
	*testApp
	svc *catalog.Service
}

func startBenchApp(b *testing.B, url, ttl string) benchApp {
	b.Helper()
	var svc *catalog.Service
	a, err := tryStartAppWith(b, map[string]any{"database.url": url, "catalog.cache_ttl": ttl}, fx.Populate(&svc))
	if err != nil {
		b.Fatal(err)
	}
	return benchApp{testApp: a, svc: svc}
}

// BenchmarkCatalog serves the same requests from a menu of 9 products and
// one of 100,000, with the cache on (cache_ttl 1s, as in production) and
// off, in one run: a page of 9 (offset 0, and a cursor page at the end of
// the menu), one product, and the lookup that prices an order. The ratio
// of each 100k figure to its 9 figure is the cost of the menu's size. The
// heap an app holds after its first page (with the cache on, the whole
// menu) is reported as app-heap-MB.
func BenchmarkCatalog(b *testing.B) {
	small := newDatabase(b)
	large := newDatabase(b)
	const n = 100_000
	fillMenu(b, large, n)
	client := &http.Client{}
	get := func(b *testing.B, a benchApp, path string) {
		res, err := client.Get(a.base + path)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	for _, cache := range []struct{ name, ttl string }{{"on", "1s"}, {"off", "0s"}} {
		for _, menu := range []struct {
			size int
			url  string
		}{{9, small}, {n, large}} {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			a := startBenchApp(b, menu.url, cache.ttl)
			get(b, a, "/api/product?limit=9")
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			last := menu.size - 9
			cases := []struct{ name, path string }{
				{"list", "/api/product?limit=9"},
				{"list-offset", fmt.Sprintf("/api/product?limit=9&offset=%d", last)},
				{"get", fmt.Sprintf("/api/product/%d", menu.size)},
			}
			for _, c := range cases {
				b.Run(fmt.Sprintf("%s/cache=%s/products=%d", c.name, cache.name, menu.size), func(b *testing.B) {
					for b.Loop() {
						get(b, a, c.path)
					}
					if c.name == "list" {
						b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/(1<<20), "app-heap-MB")
					}
				})
			}
			b.Run(fmt.Sprintf("order-lookup/cache=%s/products=%d", cache.name, menu.size), func(b *testing.B) {
				ids := []int64{1, 3, int64(menu.size)}
				ctx := context.Background()
				for b.Loop() {
					got, ok := a.svc.CachedProductsByIDs(ctx, ids)
					if !ok {
						var err error
						if got, err = a.svc.ProductsByIDs(ctx, ids); err != nil {
							b.Fatal(err)
						}
					}
					if len(got) != len(ids) {
						b.Fatalf("%d products, want %d", len(got), len(ids))
					}
				}
			})
		}
	}
}
