package ordering

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"minikart/platform/money"
)

type store struct{ db *sqlx.DB }

var _ orderStore = (*store)(nil)

func newStore(db *sqlx.DB) *store { return &store{db: db} }

// Create writes the order and all its items in one transaction: both or
// neither. Items go in one statement whatever their number.
func (st *store) Create(ctx context.Context, o storedOrder) error {
	const qOrder = `
		INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5)`
	const qItems = `
		INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
		SELECT $1, t.position, t.product_id, t.quantity, t.unit_price_cents
		FROM unnest($2::int[], $3::bigint[], $4::int[], $5::bigint[])
		     AS t(position, product_id, quantity, unit_price_cents)`
	positions := make([]int32, len(o.Lines))
	products := make([]int64, len(o.Lines))
	quantities := make([]int32, len(o.Lines))
	prices := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		positions[i], products[i], quantities[i], prices[i] = int32(i), l.ProductID, int32(l.Quantity), int64(l.UnitPrice)
	}
	tx, err := st.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin order %s: %w", o.ID, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, qOrder, o.ID, o.CouponCode, int64(o.Subtotal), int64(o.Discount), int64(o.Total)); err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	if _, err := tx.ExecContext(ctx, qItems, o.ID, positions, products, quantities, prices); err != nil {
		return fmt.Errorf("insert items of order %s: %w", o.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit order %s: %w", o.ID, err)
	}
	return nil
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
