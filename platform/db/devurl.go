package db

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"minikart/platform/config"
)

// DevURLFile is where the checkout's own development database is recorded,
// relative to the checkout (the working directory of `make run` and of the
// commands): `make run` and `make db-start` start that database on a port
// of the checkout's own (55432 unless another checkout has it) and write
// its URL here.
const DevURLFile = ".devdb/url"

// urlAlias is the plain variable that sets database.url.
const urlAlias = "DATABASE_URL"

// checkoutDatabase points database.url, in development, at the checkout's
// own database when DevURLFile records one and neither the environment nor
// an override sets the URL: every command of a checkout then works on the
// database `make run` serves from, never on another checkout's at the
// files' fixed port.
func checkoutDatabase(c Config, src *config.Source) (Config, error) {
	if src.Env() != config.Development || src.SetAboveFiles("database.url", urlAlias) {
		return c, nil
	}
	b, err := os.ReadFile(DevURLFile)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("database.url: %w", err)
	}
	url := strings.TrimSpace(string(b))
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return c, fmt.Errorf("database.url: %s does not hold a PostgreSQL URL (remove it; make run writes it again)", DevURLFile)
	}
	c.URL, c.from = url, "this checkout's development database, "+DevURLFile
	src.Resolved("database.url", url)
	return c, nil
}
