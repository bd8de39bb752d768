package db

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
)

// sendAttempts bounds the tries of a statement that was never sent.
const sendAttempts = 3

// Retry runs fn, a statement on a connection of the pgx pool, and runs it
// again, up to three times in all, while it fails before a byte of it
// reached the server (a pooled connection the server had already closed,
// as after a restart): nothing of it ran, so trying again on another
// connection is safe even for a write. database/sql does the same for the
// *sqlx.DB; code that uses the pool itself goes through Retry.
func Retry(ctx context.Context, fn func() error) error {
	var err error
	for range sendAttempts {
		if err = fn(); err == nil || !pgconn.SafeToRetry(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}
