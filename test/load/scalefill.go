package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
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
func bulkDDL(ctx context.Context, db *sqlx.DB, tables ...string) ([]ddl, error) {
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
	if err := db.SelectContext(ctx, &rows, q, tables); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	out := make([]ddl, len(rows))
	for i, r := range rows {
		out[i] = r.ddl
	}
	return out, nil
}

// fillStats says what a fill wrote and how long each part took.
type fillStats struct {
	orders, items, indexes, keys, vacuum time.Duration
}

func (f fillStats) total() time.Duration { return f.orders + f.items + f.indexes + f.keys + f.vacuum }

// fillOrders writes n orders with their items and k unexpired idempotency
// keys into db, whose products are 1..products, then vacuums and analyses
// it, as a database that has run a while is.
func fillOrders(ctx context.Context, db *sqlx.DB, n, k, products int, now time.Time, progress io.Writer) (fillStats, error) {
	var st fillStats
	if _, err := db.ExecContext(ctx, `SET synchronous_commit = off`); err != nil {
		return st, err
	}
	if _, err := db.ExecContext(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
		return st, err
	}
	defs, err := bulkDDL(ctx, db, "orders", "order_items")
	if err != nil {
		return st, err
	}
	for _, d := range defs {
		if _, err := db.ExecContext(ctx, d.Drop); err != nil {
			return st, fmt.Errorf("%s: %w", d.Drop, err)
		}
	}
	from := now.Add(-fillSpan)
	step := fillSpan / time.Duration(max(n, 1))
	stepText := fmt.Sprintf("%d microseconds", step.Microseconds())
	for _, part := range []struct {
		q    string
		took *time.Duration
		name string
	}{{qFillOrders, &st.orders, "orders"}, {qFillItems, &st.items, "order items"}} {
		began := time.Now()
		for lo := 1; lo <= n; lo += fillChunk {
			hi := min(lo+fillChunk-1, n)
			if _, err := db.ExecContext(ctx, part.q, lo, hi, from, stepText, products); err != nil {
				return st, fmt.Errorf("fill %s %d..%d: %w", part.name, lo, hi, err)
			}
			fmt.Fprintf(progress, "  %s %d of %d (%.0f s)\n", part.name, hi, n, time.Since(began).Seconds())
		}
		*part.took = time.Since(began)
	}
	began := time.Now()
	for i := len(defs) - 1; i >= 0; i-- {
		if _, err := db.ExecContext(ctx, defs[i].Create); err != nil {
			return st, fmt.Errorf("%s: %w", defs[i].Create, err)
		}
	}
	st.indexes = time.Since(began)
	fmt.Fprintf(progress, "  indexes and keys of orders built (%.0f s)\n", st.indexes.Seconds())
	began = time.Now()
	if err := fillKeys(ctx, db, 1, k, now.Add(-23*time.Hour), 23*time.Hour, n, ""); err != nil {
		return st, err
	}
	st.keys = time.Since(began)
	fmt.Fprintf(progress, "  %d idempotency keys (%.0f s)\n", k, st.keys.Seconds())
	began = time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) orders, order_items, idempotency_keys`); err != nil {
		return st, fmt.Errorf("vacuum: %w", err)
	}
	st.vacuum = time.Since(began)
	fmt.Fprintf(progress, "  vacuumed and analysed (%.0f s)\n", st.vacuum.Seconds())
	return st, nil
}

// fillKeys writes keys first..first+k-1, created over span from from on,
// each expiring a day after it was created; prefix starts each key.
func fillKeys(ctx context.Context, db *sqlx.DB, first, k int, from time.Time, span time.Duration, orders int, prefix string) error {
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
