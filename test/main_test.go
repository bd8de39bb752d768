// Package test holds the integration tests: the real fx graph, a real
// PostgreSQL (a throwaway cluster, or the server DATABASE_URL names), real
// HTTP on 127.0.0.1.
package test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"minikart/test/internal/pgtest"
)

// serverURL is the PostgreSQL server every test creates its database on.
var serverURL *url.URL

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	raw := os.Getenv("DATABASE_URL")
	if raw == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cluster, err := pgtest.StartThrowaway(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration tests need PostgreSQL: %v\n(%s)\n", err, pgtest.InstallHint)
			return 1
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stop test cluster:", err)
			}
		}()
		raw = cluster.URL("postgres")
	}
	u, err := url.Parse(raw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "DATABASE_URL is not a URL")
		return 1
	}
	serverURL = u
	return m.Run()
}
