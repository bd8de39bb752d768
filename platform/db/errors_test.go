package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a network error", fmt.Errorf("query: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}), true},
		{"a bad driver connection", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"a read cut short by a hard stop", fmt.Errorf("insert order: %w", io.ErrUnexpectedEOF), true},
		{"a connection closed before the answer", fmt.Errorf("query: %w", io.EOF), true},
		{"a closed pgx connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"a connection exception (class 08)", &pgconn.PgError{Code: "08006"}, true},
		{"an administrator shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"a crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"a write on a server that became a standby", fmt.Errorf("insert order: %w", &pgconn.PgError{Code: "25006"}), true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"a passed deadline is not unavailability", context.DeadlineExceeded, false},
		{"an unknown error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unavailable(tt.err); got != tt.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
