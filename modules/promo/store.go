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
func redeem(ctx context.Context, tx sqlx.ExtContext, code string, limit int64) error {
	const q = `
		INSERT INTO coupon_redemptions (code, redeemed) VALUES ($1, 1)
		ON CONFLICT (code) DO UPDATE
		SET redeemed = coupon_redemptions.redeemed + 1
		WHERE coupon_redemptions.redeemed < $2
		RETURNING redeemed`
	var n int64
	err := tx.QueryRowxContext(ctx, q, code, limit).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrPromoExhausted
	case err != nil:
		return fmt.Errorf("redeem %q: %w", code, err)
	}
	return nil
}
