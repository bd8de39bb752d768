package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The scale benchmark at tiny sizes, end to end: it fills its databases,
// runs every step on real servers and prints every figure and the plans,
// so that make bench-scale cannot rot between the runs someone makes of it.
func TestScaleBenchAtTinySizes(t *testing.T) {
	o := options{
		scaleBench: true, scale: scaleSizes{orders: 2000, products: 50, keys: 300},
		duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, clients: 4, maxRequests: 100_000,
		postgres: postgresStock, freshWAL: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	if err := scaleTest(ctx, o, &out, io.MultiWriter(&errs)); err != nil {
		t.Fatalf("scale benchmark: %v\n%s\n%s", err, errs.String(), out.String())
	}
	got := out.String()
	for _, name := range []string{
		"import_100k_s", "fill_s", "list_100k_vs_9_cache", "product_100k_vs_9_cache", "order_100k_vs_9",
		"checkout_10m_vs_empty", "wal_per_order_10m_vs_empty", "purge_post_p99_vs_idle", "purge_keys_per_s",
		"list_100k_vs_9_nocache", "product_100k_vs_9_nocache", "first_limited_order_ms",
	} {
		if !regexp.MustCompile(`(?m)^` + name + `: [0-9.]+$`).MatchString(got) {
			t.Errorf("no figure %s: line in\n%s", name, got)
		}
	}
	// The plans of the statements whose cost could grow are there, each
	// with what it did.
	for _, stmt := range []string{"DELETE FROM idempotency_keys", "INSERT INTO idempotency_keys", "FROM products",
		"FROM orders", "actual time="} {
		if !strings.Contains(got, stmt) {
			t.Errorf("the plans show no %q:\n%s", stmt, got)
		}
	}
	if !regexp.MustCompile(`(?m)^plans_seq_scans_of_large_tables: \d+$`).MatchString(got) {
		t.Errorf("no plans_seq_scans_of_large_tables line in\n%s", got)
	}
}

// A PostgreSQL log with auto_explain's entries: the plans of statements
// that read a large table are kept, once each, with their query text and
// every line of the plan; the rest of the log is not.
func TestParsePlans(t *testing.T) {
	log := "2026-12-07 16:00:00.001 UTC [71] LOG:  duration: 0.050 ms  plan:\n" +
		"\tQuery Text: SELECT version FROM catalog_state\n" +
		"\tSeq Scan on catalog_state  (cost=0.00..1.01 rows=1 width=8) (actual time=0.010..0.011 rows=1 loops=1)\n" +
		"2026-12-07 16:00:00.002 UTC [71] LOG:  duration: 0.210 ms  plan:\n" +
		"\tQuery Text: \n" +
		"\t\t\tSELECT id, name\n" +
		"\t\t\tFROM products\n" +
		"\t\t\tWHERE id = $1 AND removed_at IS NULL\n" +
		"\tIndex Scan using products_pkey on products  (cost=0.29..8.31 rows=1 width=80) (actual time=0.020..0.021 rows=1 loops=1)\n" +
		"\t  Index Cond: (id = '99'::bigint)\n" +
		"2026-12-07 16:00:00.003 UTC [72] LOG:  checkpoint starting: time\n" +
		"2026-12-07 16:00:00.004 UTC [71] LOG:  duration: 0.190 ms  plan:\n" +
		"\tQuery Text: \n" +
		"\t\t\tSELECT id, name\n" +
		"\t\t\tFROM products\n" +
		"\t\t\tWHERE id = $1 AND removed_at IS NULL\n" +
		"\tIndex Scan using products_pkey on products  (cost=0.29..8.31 rows=1 width=80) (actual time=0.019..0.020 rows=1 loops=1)\n" +
		"\t  Index Cond: (id = '7'::bigint)\n" +
		"2026-12-07 16:00:00.005 UTC [73] LOG:  duration: 3.100 ms  plan:\n" +
		"\tQuery Text: DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE expires_at <= now() LIMIT $1)\n" +
		"\tDelete on idempotency_keys  (cost=1.00..9.00 rows=0 width=0) (actual time=3.000..3.000 rows=0 loops=1)\n" +
		"\t  ->  Seq Scan on idempotency_keys  (cost=0.00..8.00 rows=1 width=40) (actual time=0.100..2.900 rows=10 loops=1)\n"
	plans := parsePlans(log)
	if len(plans) != 2 {
		t.Fatalf("got %d plans, want the product read's and the purge's:\n%s", len(plans), strings.Join(plans, "\n\n"))
	}
	if !strings.Contains(plans[0], "Index Cond: (id = '99'::bigint)") || !strings.Contains(plans[0], "FROM products") {
		t.Errorf("the first plan is not the product read's first run, whole:\n%s", plans[0])
	}
	if !strings.Contains(plans[1], "->  Seq Scan on idempotency_keys ") {
		t.Errorf("the purge's plan lost its lines:\n%s", plans[1])
	}
	if strings.Contains(strings.Join(plans, ""), "checkpoint") || strings.Contains(strings.Join(plans, ""), "catalog_state") {
		t.Errorf("plans hold other log lines or a small table's plan:\n%s", strings.Join(plans, "\n\n"))
	}
}
