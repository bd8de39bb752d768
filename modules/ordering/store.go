package ordering

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"

	"minikart/platform/money"
)

type store struct{ db *sqlx.DB }

var _ orderStore = (*store)(nil)

func newStore(db *sqlx.DB) *store { return &store{db: db} }

// Create writes the order and all its items in one transaction: both or
// neither. Items go in one statement whatever their number. With an
// idempotency record, the key is claimed first in the same transaction:
// a live key with the same request hash returns the stored response as a
// replay and writes nothing; with another hash, ErrIdempotencyKeyReused.
// inTx runs inside the transaction after the inserts (promo redemptions).
func (st *store) Create(ctx context.Context, o storedOrder, idem *idempotencyRecord, inTx func(context.Context, sqlx.ExtContext) error) (replay []byte, err error) {
	const qItems = `
		INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
		SELECT $1, t.position, t.product_id, t.quantity, t.unit_price_cents
		FROM unnest($2::int[], $3::bigint[], $4::int[], $5::bigint[])
		     AS t(position, product_id, quantity, unit_price_cents)`
	const qOrder = `
		INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5)`
	positions := make([]int32, len(o.Lines))
	products := make([]int64, len(o.Lines))
	quantities := make([]int32, len(o.Lines))
	prices := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		positions[i], products[i], quantities[i], prices[i] = int32(i), l.ProductID, int32(l.Quantity), int64(l.UnitPrice)
	}
	tx, err := st.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin order %s: %w", o.ID, err)
	}
	defer func() { _ = tx.Rollback() }()
	if idem != nil {
		replay, err := st.claimKey(ctx, tx, o.ID, idem)
		if err != nil || replay != nil {
			return replay, err
		}
	}
	if _, err := tx.ExecContext(ctx, qOrder, o.ID, o.CouponCode, int64(o.Subtotal), int64(o.Discount), int64(o.Total)); err != nil {
		return nil, fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	if _, err := tx.ExecContext(ctx, qItems, o.ID, positions, products, quantities, prices); err != nil {
		return nil, fmt.Errorf("insert items of order %s: %w", o.ID, err)
	}
	if inTx != nil {
		if err := inTx(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit order %s: %w", o.ID, err)
	}
	return nil, nil
}

// claimKey inserts the idempotency row, taking over an expired one. A
// concurrent transaction holding the same key makes the insert wait until
// it ends, at most idem.wait; then the key is in progress.
func (st *store) claimKey(ctx context.Context, tx *sqlx.Tx, orderID uuid.UUID, idem *idempotencyRecord) ([]byte, error) {
	const qClaim = `
		INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
		ON CONFLICT (scope, key) DO UPDATE
		SET request_hash = EXCLUDED.request_hash, order_id = EXCLUDED.order_id,
		    response = EXCLUDED.response, created_at = now(), expires_at = EXCLUDED.expires_at
		WHERE idempotency_keys.expires_at <= now()
		RETURNING true`
	const qExisting = `
		SELECT request_hash, response
		FROM idempotency_keys
		WHERE scope = $1 AND key = $2`
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", idem.wait.Milliseconds())); err != nil {
		return nil, fmt.Errorf("set lock timeout: %w", err)
	}
	var claimed bool
	err := tx.GetContext(ctx, &claimed, qClaim, idem.scope, idem.key, idem.requestHash, orderID, idem.response, idem.ttl.Seconds())
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "55P03": // lock_not_available
		return nil, ErrIdempotencyKeyInProgress
	case errors.Is(err, sql.ErrNoRows):
		var existing struct {
			Hash     []byte `db:"request_hash"`
			Response []byte `db:"response"`
		}
		if err := tx.GetContext(ctx, &existing, qExisting, idem.scope, idem.key); err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		if !bytes.Equal(existing.Hash, idem.requestHash) {
			return nil, ErrIdempotencyKeyReused
		}
		return existing.Response, nil
	case err != nil:
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = 0"); err != nil {
		return nil, fmt.Errorf("reset lock timeout: %w", err)
	}
	return nil, nil
}

// PurgeExpiredKeys deletes idempotency keys past their expiry.
func (st *store) PurgeExpiredKeys(ctx context.Context) (int64, error) {
	const q = `DELETE FROM idempotency_keys WHERE expires_at <= now()`
	res, err := st.db.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

type orderRow struct {
	ID         uuid.UUID      `db:"id"`
	CouponCode sql.NullString `db:"coupon_code"`
	Subtotal   int64          `db:"subtotal_cents"`
	Discount   int64          `db:"discount_cents"`
	Total      int64          `db:"total_cents"`
}

type itemRow struct {
	ProductID int64 `db:"product_id"`
	Quantity  int   `db:"quantity"`
	UnitPrice int64 `db:"unit_price_cents"`
}

func (st *store) Get(ctx context.Context, id uuid.UUID) (storedOrder, error) {
	const qOrder = `
		SELECT id, coupon_code, subtotal_cents, discount_cents, total_cents
		FROM orders
		WHERE id = $1`
	const qItems = `
		SELECT product_id, quantity, unit_price_cents
		FROM order_items
		WHERE order_id = $1
		ORDER BY position`
	var row orderRow
	if err := st.db.GetContext(ctx, &row, qOrder, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return storedOrder{}, ErrOrderNotFound
		}
		return storedOrder{}, fmt.Errorf("get order %s: %w", id, err)
	}
	var items []itemRow
	if err := st.db.SelectContext(ctx, &items, qItems, id); err != nil {
		return storedOrder{}, fmt.Errorf("get items of order %s: %w", id, err)
	}
	o := storedOrder{
		ID: row.ID, CouponCode: row.CouponCode.String,
		Subtotal: money.Cents(row.Subtotal), Discount: money.Cents(row.Discount), Total: money.Cents(row.Total),
		Lines: make([]storedLine, len(items)),
	}
	for i, it := range items {
		o.Lines[i] = storedLine{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: money.Cents(it.UnitPrice)}
	}
	return o, nil
}
