package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"minikart/migrations"
	"minikart/platform/health"
)

// EmbeddedVersion is the newest migration this binary carries: the schema
// version its code is written against.
var EmbeddedVersion = sync.OnceValues(func() (uint, error) {
	return latestVersion(migrations.FS)
})

func latestVersion(fsys fs.FS) (uint, error) {
	vs, err := versions(fsys)
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[len(vs)-1], nil
}

// versions lists the versions of the migrations in fsys, in order.
func versions(fsys fs.FS) ([]uint, error) {
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations source: %w", err)
	}
	defer src.Close()
	var vs []uint
	v, err := src.First()
	for err == nil {
		vs = append(vs, v)
		v, err = src.Next(v)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("migrations source: %w", err)
	}
	return vs, nil
}

// SchemaVersion reads the version golang-migrate recorded, without taking
// its lock or creating its table: 0 when no migration has run.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (version uint, dirty bool, err error) {
	const q = `SELECT version, dirty FROM schema_migrations LIMIT 1`
	var v int64
	err = pool.QueryRow(ctx, q).Scan(&v, &dirty)
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pe) && pe.Code == "42P01": // undefined_table
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	return uint(v), dirty, nil
}

// ErrSchema is a schema this binary cannot serve on; its message names the
// versions and the command that fixes it.
var ErrSchema = errors.New("database schema not usable")

// checkSchema compares the database's schema with the embedded migrations.
// A schema behind the binary, or dirty, is refused; one ahead of it (a newer
// release migrated first) is served, as migrations add before they remove.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) (got, want uint, err error) {
	if want, err = EmbeddedVersion(); err != nil {
		return 0, 0, err
	}
	got, dirty, err := SchemaVersion(ctx, pool)
	if err != nil {
		return 0, want, err
	}
	switch {
	case dirty:
		// Force records the last version that is known to be whole; -1 is
		// golang-migrate's "no migration applied".
		before := int(got) - 1
		if before == 0 {
			before = -1
		}
		return got, want, fmt.Errorf("%w: it is dirty at version %d (a migration failed part-way; this binary needs version %d): "+
			"repair what migration %d left, then run `minikart migrate force %d` and `minikart migrate up`",
			ErrSchema, got, want, got, before)
	case got < want:
		return got, want, fmt.Errorf("%w: it is at version %d and this binary needs version %d: run `minikart migrate up` "+
			"(or set database.migrate_on_start: true)", ErrSchema, got, want)
	}
	return got, want, nil
}

func newSchemaCheck(pool *pgxpool.Pool) health.Check {
	return health.Check{
		Name: "schema",
		Probe: func(ctx context.Context) health.Result {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, _, err := checkSchema(ctx, pool); err != nil {
				if errors.Is(err, ErrSchema) {
					return health.Result{Status: health.Unavailable, Error: err.Error()}
				}
				return health.Result{Status: health.Unavailable, Error: "schema version not readable"}
			}
			return health.Result{Status: health.OK}
		},
	}
}
