package ordering

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jmoiron/sqlx"

	"minikart/modules/catalog"
	"minikart/platform/db"
	"minikart/platform/money"
)

// store writes orders through pool, pgx itself, when an order is one
// statement (every order but one with a limited coupon): the statement is
// prepared once per connection and its row scanned without database/sql's
// connection, argument and row wrappers, which cost more CPU than pgx's own
// work. Transactions and reads go through db, whose sqlx.ExtContext the
// promo module's redemption takes part in.
type store struct {
	db   *sqlx.DB
	pool *pgxpool.Pool
}

var _ orderStore = (*store)(nil)

func newStore(db *sqlx.DB, pool *pgxpool.Pool) *store { return &store{db: db, pool: pool} }

// rowQuerier runs a statement that answers one row: the pool or a
// transaction.
type rowQuerier func(ctx context.Context, q string, args ...any) interface{ Scan(...any) error }

// qCreate writes an order, its items and, when a key is given, claims the
// Idempotency-Key, all in one statement, so it is atomic without a
// transaction of its own. It writes nothing unless every item's price, name
// and category are still the catalogue's (the order may have been priced
// from the catalogue's cache). The claim takes over an expired key; a live
// one (or one a concurrent statement is inserting: the insert waits for it
// to end) is not claimed, and then nothing is written. The answer says
// whether the order was written and whether the prices were current.
var qCreate = `
	WITH fresh AS (
		SELECT ` + catalog.SamePricesSQL("$7", "$9", "$15", "$16") + ` AS ok
	), claim AS (
		INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
		SELECT $10::text, $11::text, $12::bytea, $1::uuid, $13::bytea, now() + make_interval(secs => $14::float8)
		WHERE $11::text IS NOT NULL AND (SELECT ok FROM fresh)
		ON CONFLICT (scope, key) DO UPDATE
		SET request_hash = EXCLUDED.request_hash, order_id = EXCLUDED.order_id,
		    response = EXCLUDED.response, created_at = now(), expires_at = EXCLUDED.expires_at
		WHERE idempotency_keys.expires_at <= now()
		RETURNING true
	), ord AS (
		INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents, api_key_id)
		SELECT $1::uuid, NULLIF($2::text, ''), $3::bigint, $4::bigint, $5::bigint, NULLIF($17::text, '')
		WHERE (SELECT ok FROM fresh) AND ($11::text IS NULL OR EXISTS (SELECT FROM claim))
		RETURNING id
	), items AS (
		INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents, product_name, product_category)
		SELECT ord.id, t.position, t.product_id, t.quantity, t.unit_price_cents, t.product_name, t.product_category
		FROM ord, unnest($6::int[], $7::bigint[], $8::int[], $9::bigint[], $15::text[], $16::text[])
		     AS t(position, product_id, quantity, unit_price_cents, product_name, product_category)
	)
	SELECT EXISTS (SELECT FROM ord), (SELECT ok FROM fresh)`

// Create writes the order and all its items atomically: both or neither.
// With an idempotency record, the key is claimed in the same statement: a
// live key with the same request hash returns the stored response as a
// replay and writes nothing; with another hash, ErrIdempotencyKeyReused.
// Without inTx it is one statement and one round trip; with inTx (a
// limited coupon's redemption) it runs in a transaction with inTx after it.
func (st *store) Create(ctx context.Context, o storedOrder, idem *idempotencyRecord, inTx func(context.Context, sqlx.ExtContext) error) (replay []byte, err error) {
	positions := make([]int32, len(o.Lines))
	products := make([]int64, len(o.Lines))
	quantities := make([]int32, len(o.Lines))
	prices := make([]int64, len(o.Lines))
	names := make([]string, len(o.Lines))
	categories := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		positions[i], products[i], quantities[i], prices[i] = int32(i), l.ProductID, int32(l.Quantity), int64(l.UnitPrice)
		names[i], categories[i] = l.Name, l.Category
	}
	// The id as pgtype.UUID is encoded as its 16 bytes; a uuid.UUID would
	// take the driver.Valuer path, through its string form.
	args := []any{pgtype.UUID{Bytes: o.ID, Valid: true}, o.CouponCode, int64(o.Subtotal), int64(o.Discount), int64(o.Total),
		positions, products, quantities, prices, nil, nil, nil, nil, nil, names, categories, o.KeyID}
	if idem != nil {
		args[9], args[10], args[11], args[12], args[13] = idem.scope, idem.key, idem.requestHash, idem.response, idem.ttl.Seconds()
	}
	if inTx == nil {
		return st.create(ctx, st.poolRow, o.ID, idem, args)
	}
	tx, err := st.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin order %s: %w", o.ID, err)
	}
	defer func() { _ = tx.Rollback() }()
	txRow := func(ctx context.Context, q string, args ...any) interface{ Scan(...any) error } {
		return tx.QueryRowxContext(ctx, q, args...)
	}
	if replay, err := st.create(ctx, txRow, o.ID, idem, args); err != nil || replay != nil {
		return replay, err
	}
	if err := inTx(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit order %s: %w", o.ID, err)
	}
	return nil, nil
}

// poolRow runs q on a connection of the pool, again on another when it
// failed before it was sent (db.Retry).
func (st *store) poolRow(ctx context.Context, q string, args ...any) interface{ Scan(...any) error } {
	return retriedRow{ctx: ctx, pool: st.pool, q: q, args: args}
}

// retriedRow is poolRow's answer: the statement runs when it is scanned.
type retriedRow struct {
	ctx  context.Context
	pool *pgxpool.Pool
	q    string
	args []any
}

func (r retriedRow) Scan(dest ...any) error {
	return db.Retry(r.ctx, func() error { return r.pool.QueryRow(r.ctx, r.q, r.args...).Scan(dest...) })
}

// create runs qCreate; when the key was not claimed it answers the replay,
// and when the prices were not current, errStalePrices.
func (st *store) create(ctx context.Context, row rowQuerier, id uuid.UUID, idem *idempotencyRecord, args []any) ([]byte, error) {
	var created, fresh bool
	err := row(ctx, qCreate, args...).Scan(&created, &fresh)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "55P03": // lock_not_available: a lock_timeout ran out
		return nil, ErrIdempotencyKeyInProgress
	case err != nil:
		return nil, fmt.Errorf("insert order %s: %w", id, err)
	case created:
		return nil, nil
	case !fresh:
		return nil, errStalePrices
	}
	return st.replay(ctx, row, idem)
}

// replay answers a request whose key is already used: the stored response
// when the request is the same, ErrIdempotencyKeyReused otherwise.
func (st *store) replay(ctx context.Context, row rowQuerier, idem *idempotencyRecord) ([]byte, error) {
	const qExisting = `
		SELECT request_hash, response
		FROM idempotency_keys
		WHERE scope = $1 AND key = $2`
	var hash, response []byte
	if err := row(ctx, qExisting, idem.scope, idem.key).Scan(&hash, &response); err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(hash, idem.requestHash) {
		return nil, ErrIdempotencyKeyReused
	}
	return response, nil
}

// CouponUses counts the orders stored with the canonical coupon code, but
// the order except, inside tx (the transaction that is placing except).
// The code's orders are counted in an index alone (an index-only scan of
// the coupon code's index, which holds no id), and except is taken off by
// its primary key: the count reads none of the code's order rows, however
// many millions of them there are.
func (st *store) CouponUses(ctx context.Context, tx sqlx.ExtContext, code string, except uuid.UUID) (int64, error) {
	const q = `SELECT (SELECT count(*) FROM orders WHERE coupon_code = $1)
		- (SELECT count(*) FROM orders WHERE id = $2 AND coupon_code = $1)`
	var n int64
	if err := sqlx.GetContext(ctx, tx, &n, q, code, except); err != nil {
		return 0, fmt.Errorf("count orders with coupon %q: %w", code, err)
	}
	return n, nil
}

// PurgeExpiredBatch deletes at most batch idempotency keys past their
// expiry, oldest first, in one statement, its own short transaction: a
// backlog of a million keys never holds its locks, or a WAL burst, for
// seconds while orders wait. Keys another instance's purge holds are
// skipped, not waited for. The rows are deleted where the expiry index
// found them (their ctid, stable while this statement holds their locks),
// not looked up again by key: at a million keys those primary-key lookups
// were random reads, most of each statement's time.
func (st *store) PurgeExpiredBatch(ctx context.Context, batch int) (int64, error) {
	const q = `
		DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM idempotency_keys
			WHERE expires_at <= now()
			ORDER BY expires_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED))`
	res, err := st.db.ExecContext(ctx, q, batch)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

type orderRow struct {
	ID         uuid.UUID      `db:"id"`
	CouponCode sql.NullString `db:"coupon_code"`
	Subtotal   int64          `db:"subtotal_cents"`
	Discount   int64          `db:"discount_cents"`
	Total      int64          `db:"total_cents"`
	KeyID      sql.NullString `db:"api_key_id"`
}

type itemRow struct {
	ProductID int64  `db:"product_id"`
	Quantity  int    `db:"quantity"`
	UnitPrice int64  `db:"unit_price_cents"`
	Name      string `db:"product_name"`
	Category  string `db:"product_category"`
}

// Get reads an order placed with the api key id keyID and its items in
// position order, or ErrOrderNotFound.
func (st *store) Get(ctx context.Context, id uuid.UUID, keyID string) (storedOrder, error) {
	const qOrder = `
		SELECT id, coupon_code, subtotal_cents, discount_cents, total_cents, api_key_id
		FROM orders
		WHERE id = $1 AND api_key_id = $2`
	var row orderRow
	if err := st.db.GetContext(ctx, &row, qOrder, id, keyID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return storedOrder{}, ErrOrderNotFound
		}
		return storedOrder{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return st.withItems(ctx, row)
}

// withItems reads the items of the order row, in position order.
func (st *store) withItems(ctx context.Context, row orderRow) (storedOrder, error) {
	const qItems = `
		SELECT product_id, quantity, unit_price_cents,
		       COALESCE(product_name, '') AS product_name, COALESCE(product_category, '') AS product_category
		FROM order_items
		WHERE order_id = $1
		ORDER BY position`
	var items []itemRow
	if err := st.db.SelectContext(ctx, &items, qItems, row.ID); err != nil {
		return storedOrder{}, fmt.Errorf("get items of order %s: %w", row.ID, err)
	}
	o := storedOrder{
		ID: row.ID, KeyID: row.KeyID.String, CouponCode: row.CouponCode.String,
		Subtotal: money.Cents(row.Subtotal), Discount: money.Cents(row.Discount), Total: money.Cents(row.Total),
		Lines: make([]storedLine, len(items)),
	}
	for i, it := range items {
		o.Lines[i] = storedLine{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: money.Cents(it.UnitPrice), Name: it.Name, Category: it.Category}
	}
	return o, nil
}
