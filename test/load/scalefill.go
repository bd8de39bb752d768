package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// The scale benchmark's databases are filled the way the server fills
// them, with set-based SQL so that ten million orders take minutes: orders
// of two items over 90 days, three in ten with a coupon (HAPPYHRS in two,
// FIFTYOFF in one), each placed with the benchmark's api key and with a
// time-ordered id as the server makes it (UUIDv7: the order's millisecond,
// then random bits); idempotency keys as clients send them (random UUIDs),
// unexpired, each with a stored response of about 1.2 kB; and the menu
// through the server's own `catalog import`.

// fillSpan is how far back the orders go.
const fillSpan = 90 * 24 * time.Hour

// benchKeyID is the id of the api key the scale benchmark's servers accept
// (MINIKART_AUTH_API_KEYS=benchKeyID:apiKey): the filled orders and keys
// belong to it, as the ones its requests place do.
const benchKeyID = "bench"

// fillChunk is how many orders one fill statement writes, so that progress
// shows and no statement holds gigabytes of transition state.
const fillChunk = 500_000

// orderGen numbers orders $1..$2 and gives each its time ($3 plus i-1
// steps of $4), a random part (md5 of its number), its coupon and the
// coupon's discount in percent.
const orderGen = `
	SELECT i, $3::timestamptz + (i - 1) * $4::interval AS at, md5(i::text) AS h,
	       CASE WHEN i % 10 < 2 THEN 'HAPPYHRS' WHEN i % 10 = 2 THEN 'FIFTYOFF' END AS code,
	       CASE WHEN i % 10 < 2 THEN 18 WHEN i % 10 = 2 THEN 50 ELSE 0 END AS pct
	FROM generate_series($1::bigint, $2::bigint) AS i`

// orderID is g's UUIDv7: 48 bits of Unix milliseconds, the version, then
// random bits with the variant's, as uuid.NewV7 makes them.
const orderID = `(lpad(to_hex((extract(epoch FROM g.at) * 1000)::bigint), 12, '0') || '7' || substr(g.h, 1, 3)
	|| substr('89ab', (g.i % 4)::int + 1, 1) || substr(g.h, 4, 15))::uuid`

// itemProduct is the product of item pos of order g: one of products 1..$5,
// spread by a multiplicative hash.
func itemProduct(pos string) string {
	return `1 + ((g.i * 2 + ` + pos + `) * 2654435761) % $5::bigint`
}

// qFillOrders writes orders $1..$2, priced from the products table.
var qFillOrders = `
	INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents, api_key_id, created_at)
	SELECT ` + orderID + `, g.code, s.sub, s.sub * g.pct / 100, s.sub - s.sub * g.pct / 100, '` + benchKeyID + `', g.at
	FROM (` + orderGen + `) AS g
	JOIN products p0 ON p0.id = ` + itemProduct("0") + `
	JOIN products p1 ON p1.id = ` + itemProduct("1") + `
	CROSS JOIN LATERAL (SELECT p0.price_cents * (1 + g.i % 3) + p1.price_cents * (1 + (g.i + 1) % 3) AS sub) AS s`

// qFillItems writes the two items of orders $1..$2, as sold.
var qFillItems = `
	INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents, product_name, product_category)
	SELECT ` + orderID + `, pos, p.id, 1 + (g.i + pos) % 3, p.price_cents, p.name, p.category
	FROM (` + orderGen + `) AS g
	CROSS JOIN generate_series(0, 1) AS pos
	JOIN products p ON p.id = 1 + ((g.i * 2 + pos) * 2654435761) % $5::bigint`

// qFillKeys writes idempotency keys $1..$2 (random UUIDs, as clients make
// them, in the order they come) prefixed by $5, created from $3 on in
// steps of $4 and expiring a day after each, for the latest $6 orders in
// turn.
const qFillKeys = `
	WITH recent AS (
		SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS rn
		FROM orders ORDER BY created_at DESC, id DESC LIMIT $6)
	INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, created_at, expires_at)
	SELECT '` + benchKeyID + `', $5::text || md5('key' || j)::uuid::text, sha256(int8send(j)),
	       coalesce(r.id, md5('order' || j)::uuid), convert_to(repeat(md5(j::text), 37), 'UTF8'),
	       $3::timestamptz + (j - $1) * $4::interval, $3::timestamptz + (j - $1) * $4::interval + interval '24 hours'
	FROM generate_series($1::bigint, $2::bigint) AS j
	LEFT JOIN recent r ON r.rn = 1 + (j - 1) % $6::bigint`

// ddl is how to remove one index or constraint and how to put it back.
type ddl struct {
	Drop   string `db:"drop"`
	Create string `db:"create"`
}

// bulkDDL lists the indexes and key constraints of tables, to drop them
// before a bulk load and build them after, as pg_dump's restore does:
// building an index once from sorted rows is many times faster than
// growing it row by row. Foreign keys come first (dropped first, built
// last), then primary keys, then the other indexes.
func bulkDDL(ctx context.Context, db sqlx.QueryerContext, tables ...string) ([]ddl, error) {
	const q = `
		SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create,
		       CASE contype WHEN 'f' THEN 0 ELSE 1 END AS rank
		FROM pg_constraint
		WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u', 'f')
		UNION ALL
		SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid), 2
		FROM pg_index
		WHERE indrelid = ANY($1::regclass[])
		  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = pg_index.indexrelid AND c.contype IN ('p', 'u'))
		ORDER BY rank, drop`
	var rows []struct {
		ddl
		Rank int `db:"rank"`
	}
	if err := sqlx.SelectContext(ctx, db, &rows, q, tables); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	out := make([]ddl, len(rows))
	for i, r := range rows {
		out[i] = r.ddl
	}
	return out, nil
}

// fillStats says how long each part of a fill took.
type fillStats struct {
	rows, indexes, keys, vacuum time.Duration
}

// fillWorkers is how many connections write orders and items at once: one
// per core of the machine the benchmark was made on.
const fillWorkers = 2

// fillOrders writes n orders with their items and k unexpired idempotency
// keys into db, whose products are 1..products, then vacuums and analyses
// it, as a database that has run a while is.
func fillOrders(ctx context.Context, db *sqlx.DB, n, k, products int, now time.Time, progress io.Writer) (fillStats, error) {
	var st fillStats
	began := time.Now()
	// One connection for the schema, the keys and the vacuum, beside the
	// fill's own.
	conn, err := db.Connx(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	for _, set := range []string{`SET maintenance_work_mem = '512MB'`, `SET synchronous_commit = off`} {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			return st, err
		}
	}
	defs, err := bulkDDL(ctx, conn, "orders", "order_items")
	if err != nil {
		return st, err
	}
	for _, d := range defs {
		if _, err := conn.ExecContext(ctx, d.Drop); err != nil {
			return st, fmt.Errorf("%s: %w", d.Drop, err)
		}
	}
	if err := fillRows(ctx, db, n, products, now, progress); err != nil {
		return st, err
	}
	st.rows = time.Since(began)
	began = time.Now()
	for i := len(defs) - 1; i >= 0; i-- {
		if _, err := conn.ExecContext(ctx, defs[i].Create); err != nil {
			return st, fmt.Errorf("%s: %w", defs[i].Create, err)
		}
	}
	st.indexes = time.Since(began)
	fmt.Fprintf(progress, "  indexes and keys of orders built (%.0f s)\n", st.indexes.Seconds())
	began = time.Now()
	if err := fillKeys(ctx, conn, 1, k, now.Add(-23*time.Hour), 23*time.Hour, n, ""); err != nil {
		return st, err
	}
	st.keys = time.Since(began)
	fmt.Fprintf(progress, "  %d idempotency keys (%.0f s)\n", k, st.keys.Seconds())
	began = time.Now()
	// The rows' commits were not waited for: a checkpoint flushes them, so
	// that the vacuum may mark their pages all-visible (which index-only
	// scans rely on), as it does in a database that has run a while.
	if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, `VACUUM (ANALYZE) orders, order_items, idempotency_keys`); err != nil {
		return st, fmt.Errorf("vacuum: %w", err)
	}
	st.vacuum = time.Since(began)
	fmt.Fprintf(progress, "  vacuumed and analysed (%.0f s)\n", st.vacuum.Seconds())
	return st, nil
}

// fillRows writes orders 1..n and their items, in chunks of fillChunk
// orders, on fillWorkers connections at once.
func fillRows(ctx context.Context, db *sqlx.DB, n, products int, now time.Time, progress io.Writer) error {
	from := now.Add(-fillSpan)
	step := fmt.Sprintf("%d microseconds", (fillSpan / time.Duration(max(n, 1))).Microseconds())
	type job struct {
		q, name string
		lo, hi  int
	}
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		for lo := 1; lo <= n; lo += fillChunk {
			hi := min(lo+fillChunk-1, n)
			for _, j := range []job{{qFillOrders, "orders", lo, hi}, {qFillItems, "order items", lo, hi}} {
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	began := time.Now()
	var mu sync.Mutex // progress is written by every worker
	errs := make(chan error, fillWorkers)
	for range fillWorkers {
		go func() {
			errs <- func() error {
				conn, err := db.Connx(ctx)
				if err != nil {
					return err
				}
				defer conn.Close()
				// A fill is redone from scratch if it fails: no commit of
				// it needs to wait for the disk.
				if _, err := conn.ExecContext(ctx, `SET synchronous_commit = off`); err != nil {
					return err
				}
				for j := range jobs {
					if _, err := conn.ExecContext(ctx, j.q, j.lo, j.hi, from, step, products); err != nil {
						return fmt.Errorf("fill %s %d..%d: %w", j.name, j.lo, j.hi, err)
					}
					mu.Lock()
					fmt.Fprintf(progress, "  %s %d..%d of %d (%.0f s)\n", j.name, j.lo, j.hi, n, time.Since(began).Seconds())
					mu.Unlock()
				}
				return nil
			}()
		}()
	}
	var first error
	for range fillWorkers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// fillKeys writes keys first..first+k-1, created over span from from on,
// each expiring a day after it was created; prefix starts each key.
func fillKeys(ctx context.Context, db sqlx.ExecerContext, first, k int, from time.Time, span time.Duration, orders int, prefix string) error {
	if k <= 0 {
		return nil
	}
	step := fmt.Sprintf("%d microseconds", (span / time.Duration(k)).Microseconds())
	for lo := first; lo < first+k; lo += fillChunk {
		hi := min(lo+fillChunk-1, first+k-1)
		if _, err := db.ExecContext(ctx, qFillKeys, lo, hi, from.Add(time.Duration(lo-first)*(span/time.Duration(k))), step, prefix, max(min(k, orders), 1)); err != nil {
			return fmt.Errorf("fill idempotency keys %d..%d: %w", lo, hi, err)
		}
	}
	return nil
}

// writeMenuCSV writes a menu of products first..last, as `catalog import`
// reads it: names, ten categories, prices from 1.00 to 19.99 and the
// built-in pictures.
func writeMenuCSV(path string, first, last int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	slugs := []string{"waffle", "creme-brulee", "macaron", "tiramisu", "baklava", "meringue", "cake", "brownie", "panna-cotta"}
	_ = w.Write([]string{"id", "name", "category", "price", "image"})
	for id := first; id <= last; id++ {
		cents := 100 + (id*7919)%1900
		_ = w.Write([]string{
			strconv.Itoa(id), "Dessert No. " + strconv.Itoa(id), "Category " + strconv.Itoa(id%10),
			fmt.Sprintf("%d.%02d", cents/100, cents%100), slugs[id%len(slugs)],
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
