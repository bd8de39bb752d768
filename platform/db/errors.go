package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
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

// Permanent says what is wrong when err is a connection error that retrying
// cannot cure, and returns "" otherwise: the server refused the role or its
// password, or the database does not exist. Such a connection fails the same
// way on every attempt, so waiting for it only hides the cause. A host name
// that does not resolve is not among them: an orchestrator may publish the
// database's name a moment after starting the server.
func Permanent(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	switch pe.Code {
	case "28P01", "28000": // invalid_password, invalid_authorization_specification
		return "the server refused the role or its password; check the user and password in database.url"
	case "3D000": // invalid_catalog_name
		return "the database does not exist; create it, or name another in database.url"
	}
	return ""
}

// Where names the server and database of cc, as host:port/database, without
// the user or password, for messages an operator reads.
func Where(cc *pgx.ConnConfig) string {
	return fmt.Sprintf("%s/%s", net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.Database)
}

// Cause is the heart of a connection error on one line: what the server
// said, or why the network refused, without pgx's list of every address
// and fallback it tried (one line each).
func Cause(err error) string {
	var pe *pgconn.PgError
	var oe *net.OpError
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("%s: %s (SQLSTATE %s)", pe.Severity, pe.Message, pe.Code)
	case errors.As(err, &oe):
		return oe.Error()
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	return msg
}
