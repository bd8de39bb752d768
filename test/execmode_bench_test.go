package test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkOrderQueryExecModes places orders, one after the other, through
// a server whose pool runs in each of pgx's query modes: the default
// (cache_statement: each statement prepared once per connection) and the
// two a pooler in transaction mode without prepared-statement support
// (PgBouncer 1.18, Debian's) leaves: exec (parsed and planned at every
// run) and simple_protocol (the arguments inlined as text). The ratio of
// each to cache_statement, from the same run, is what such a pooler would
// cost an order (docs/cluster.md).
func BenchmarkOrderQueryExecModes(b *testing.B) {
	const body = `{"couponCode":"HAPPYHRS","items":[{"productId":"3","quantity":2},{"productId":"7","quantity":1}]}`
	for _, mode := range []string{"cache_statement", "exec", "simple_protocol"} {
		b.Run(mode, func(b *testing.B) {
			url := newDatabase(b) + "&default_query_exec_mode=" + mode
			a, err := tryStartAppWith(b, map[string]any{"database.url": url, "ordering.rate_limit.enabled": false, "server.rate_limit.enabled": false})
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{}
			n := 0
			order := func() {
				n++
				req, _ := http.NewRequest(http.MethodPost, a.base+"/api/order", strings.NewReader(body))
				req.Header.Set("api_key", "apitest")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", mode, n))
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("order: %d", res.StatusCode)
				}
			}
			for range 50 { // the pool's connections and the statements warm
				order()
			}
			b.ResetTimer()
			for b.Loop() {
				order()
			}
		})
	}
}
