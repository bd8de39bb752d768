package ordering

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"minikart/platform/money"
)

var _ historyStore = (*store)(nil)

// summaryRow is an orders row with its number of items.
type summaryRow struct {
	orderRow
	CreatedAt time.Time `db:"created_at"`
	Items     int       `db:"item_count"`
}

// List reads one newest-first page. Each filter adds its condition only
// when set, rather than "$n IS NULL OR ...", so that the planner sees the
// exact conditions and walks the index that serves them: (created_at, id)
// without filters, (coupon_code, created_at, id) or (api_key_id,
// created_at, id) with one, each read backwards from the cursor for at most
// limit rows.
func (st *store) List(ctx context.Context, f OrderFilter, after *OrderPosition, limit int) ([]OrderSummary, error) {
	const qSelect = `
		SELECT o.id, o.coupon_code, o.subtotal_cents, o.discount_cents, o.total_cents, o.api_key_id, o.created_at,
		       (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS item_count
		FROM orders o`
	var where []string
	var args []any
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if !f.From.IsZero() {
		add("o.created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("o.created_at < ?", f.To)
	}
	if f.CouponCode != "" {
		add("o.coupon_code = ?", f.CouponCode)
	}
	if f.KeyID != "" {
		add("o.api_key_id = ?", f.KeyID)
	}
	if after != nil {
		add("(o.created_at, o.id) < (?, ?)", after.CreatedAt, after.ID)
	}
	q := qSelect
	if len(where) > 0 {
		q += "\n\t\tWHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += "\n\t\tORDER BY o.created_at DESC, o.id DESC\n\t\tLIMIT $" + strconv.Itoa(len(args))
	var rows []summaryRow
	if err := st.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := make([]OrderSummary, len(rows))
	for i, r := range rows {
		out[i] = OrderSummary{
			ID: r.ID, CreatedAt: r.CreatedAt.UTC(), KeyID: r.KeyID.String, CouponCode: r.CouponCode.String,
			Subtotal: money.Cents(r.Subtotal), Discounts: money.Cents(r.Discount), Total: money.Cents(r.Total), ItemCount: r.Items,
		}
	}
	return out, nil
}

// GetAny reads an order of any key, with its items and when it was placed,
// or ErrOrderNotFound.
func (st *store) GetAny(ctx context.Context, id uuid.UUID) (storedOrder, time.Time, error) {
	const qOrder = `
		SELECT id, coupon_code, subtotal_cents, discount_cents, total_cents, api_key_id, created_at
		FROM orders
		WHERE id = $1`
	var row struct {
		orderRow
		CreatedAt time.Time `db:"created_at"`
	}
	if err := st.db.GetContext(ctx, &row, qOrder, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return storedOrder{}, time.Time{}, ErrOrderNotFound
		}
		return storedOrder{}, time.Time{}, fmt.Errorf("get order %s: %w", id, err)
	}
	o, err := st.withItems(ctx, row.orderRow)
	return o, row.CreatedAt.UTC(), err
}

// Totals sums the orders of [from, to) by UTC day or by coupon code; the
// range is read from orders_created_at_covering_idx alone (migration 0014).
func (st *store) Totals(ctx context.Context, by TotalsBy, from, to time.Time) ([]Total, error) {
	const qByDay = `
		SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS key,
		       count(*) AS orders, sum(subtotal_cents) AS subtotal, sum(discount_cents) AS discounts, sum(total_cents) AS total
		FROM orders
		WHERE created_at >= $1 AND created_at < $2
		GROUP BY 1
		ORDER BY 1 DESC`
	const qByCoupon = `
		SELECT COALESCE(coupon_code, '') AS key,
		       count(*) AS orders, sum(subtotal_cents) AS subtotal, sum(discount_cents) AS discounts, sum(total_cents) AS total
		FROM orders
		WHERE created_at >= $1 AND created_at < $2
		GROUP BY 1
		ORDER BY 1`
	q := qByDay
	if by == ByCoupon {
		q = qByCoupon
	}
	var rows []struct {
		Key       string `db:"key"`
		Orders    int64  `db:"orders"`
		Subtotal  int64  `db:"subtotal"`
		Discounts int64  `db:"discounts"`
		Total     int64  `db:"total"`
	}
	if err := st.db.SelectContext(ctx, &rows, q, from, to); err != nil {
		return nil, fmt.Errorf("order totals by %s: %w", by, err)
	}
	out := make([]Total, len(rows))
	for i, r := range rows {
		out[i] = Total{Key: r.Key, Orders: r.Orders, Subtotal: money.Cents(r.Subtotal), Discounts: money.Cents(r.Discounts), Total: money.Cents(r.Total)}
	}
	return out, nil
}
