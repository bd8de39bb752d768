package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports errors that mean "no usable primary right now": it
// cannot be reached, it went away mid-statement (a crash, or a failover's
// hard stop), it is starting or shutting down, or the connection landed on
// a server that has become a read-only standby. The client should retry
// later; a retry carrying an idempotency key is safe even when the lost
// statement had committed.
func Unavailable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The caller's own deadline or cancellation (a net.Error too): not
		// the database's fault.
		return false
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, pgconn.ErrConnClosed):
		// The server closed the connection without a word: pgx reports a
		// read cut short as a bare EOF.
		return true
	case errors.As(err, &pe):
		return unavailableCode(pe.Code)
	}
	return false
}

// unavailableCode is the SQLSTATE side of Unavailable.
func unavailableCode(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: fast or immediate stop
		"57P02", // crash_shutdown: another backend crashed
		"57P03", // cannot_connect_now: starting up or in recovery
		"25006", // read_only_sql_transaction: the server is a standby now
		"53300": // too_many_connections
		return true
	}
	return len(code) == 5 && code[:2] == "08" // connection exceptions
}
