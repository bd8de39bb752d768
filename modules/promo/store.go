package promo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// redeem counts one use of code inside the caller's transaction, only while
// the count is under limit. The row lock serialises concurrent redemptions
// of one code across every instance; other codes are not affected.
//
// A code without a counter row yet gets one that starts from prior: the
// orders stored with it before (while it had no limit). Two transactions
// starting the same counter meet on the primary key: the second waits for
// the first and then bumps its row, ignoring its own count.
func redeem(ctx context.Context, tx sqlx.ExtContext, code string, limit int64, prior PriorUses) error {
	const qBump = `
		WITH bumped AS (
			UPDATE coupon_redemptions SET redeemed = redeemed + 1
			WHERE code = $1 AND redeemed < $2
			RETURNING redeemed
		)
		SELECT EXISTS (SELECT FROM bumped) AS bumped,
		       EXISTS (SELECT FROM coupon_redemptions WHERE code = $1) AS counted`
	var r struct {
		Bumped  bool `db:"bumped"`
		Counted bool `db:"counted"`
	}
	if err := sqlx.GetContext(ctx, tx, &r, qBump, code, limit); err != nil {
		return fmt.Errorf("redeem %q: %w", code, err)
	}
	switch {
	case r.Bumped:
		return nil
	case r.Counted:
		return ErrPromoExhausted
	}
	n, err := prior(ctx, tx)
	if err != nil {
		return fmt.Errorf("redeem %q: count earlier uses: %w", code, err)
	}
	const qStart = `
		INSERT INTO coupon_redemptions (code, redeemed)
		SELECT $1, $3::bigint + 1 WHERE $3::bigint < $2
		ON CONFLICT (code) DO UPDATE
		SET redeemed = coupon_redemptions.redeemed + 1
		WHERE coupon_redemptions.redeemed < $2
		RETURNING redeemed`
	err = tx.QueryRowxContext(ctx, qStart, code, limit, n).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrPromoExhausted
	case err != nil:
		return fmt.Errorf("redeem %q: %w", code, err)
	}
	return nil
}

// startCounter inserts code's counter at prior's count unless it exists.
// The count runs outside any order; an order that starts the counter in the
// meantime (redeem's qStart, which counts inside its own transaction) wins
// on the primary key and this insert does nothing.
func startCounter(ctx context.Context, db sqlx.ExtContext, code string, prior PriorUses) (bool, error) {
	const qExists = `SELECT EXISTS (SELECT FROM coupon_redemptions WHERE code = $1)`
	var exists bool
	if err := sqlx.GetContext(ctx, db, &exists, qExists, code); err != nil {
		return false, fmt.Errorf("start counter %q: %w", code, err)
	}
	if exists {
		return false, nil
	}
	n, err := prior(ctx, db)
	if err != nil {
		return false, fmt.Errorf("start counter %q: count earlier uses: %w", code, err)
	}
	const qInsert = `INSERT INTO coupon_redemptions (code, redeemed) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING`
	res, err := db.ExecContext(ctx, qInsert, code, n)
	if err != nil {
		return false, fmt.Errorf("start counter %q: %w", code, err)
	}
	inserted, err := res.RowsAffected()
	return inserted == 1, err
}
