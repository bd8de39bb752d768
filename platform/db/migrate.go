package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"minikart/migrations"
)

// Migrator runs the embedded migrations. golang-migrate takes a PostgreSQL
// advisory lock, so several instances migrating at once are safe.
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator opens a migrator on sqlDB; Close closes sqlDB.
func NewMigrator(sqlDB *sql.DB) (*Migrator, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations source: %w", err)
	}
	drv, err := pgxmigrate.WithInstance(sqlDB, &pgxmigrate.Config{})
	if err != nil {
		return nil, fmt.Errorf("migrations driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{m: m}, nil
}

// Up applies every pending migration.
func (mg *Migrator) Up() error {
	if err := mg.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// ErrNothingToRollBack is Down's answer when no migration is applied.
var ErrNothingToRollBack = errors.New("nothing to roll back")

// Down rolls back the most recent migration.
func (mg *Migrator) Down() error {
	if _, _, err := mg.m.Version(); errors.Is(err, migrate.ErrNilVersion) {
		return ErrNothingToRollBack
	}
	if err := mg.m.Steps(-1); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Force records version as applied and clean, without running anything:
// the way out of a dirty schema once what the failed migration left has
// been repaired by hand. -1 records that no migration is applied.
// A version the binary has no migration for is refused: recorded, it would
// leave up and down nothing to start from.
func (mg *Migrator) Force(version int) error {
	if err := checkForceVersion(version); err != nil {
		return err
	}
	if err := mg.m.Force(version); err != nil {
		return fmt.Errorf("migrate force %d: %w", version, err)
	}
	return nil
}

// checkForceVersion accepts -1 and the versions of the embedded migrations.
func checkForceVersion(version int) error {
	vs, err := versions(migrations.FS)
	if err != nil {
		return err
	}
	if version == -1 || slices.Contains(vs, uint(version)) {
		return nil
	}
	valid := "-1 (none applied)"
	if len(vs) > 0 {
		valid = fmt.Sprintf("%d to %d, or %s", vs[0], vs[len(vs)-1], valid)
	}
	return fmt.Errorf("migrate force %d: this binary has no migration %d; valid versions: %s", version, version, valid)
}

// Version reports the applied version and whether the last run left it dirty.
func (mg *Migrator) Version() (version uint, dirty bool, err error) {
	version, dirty, err = mg.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return version, dirty, err
}

// Close releases the migrator's connection and database handle.
func (mg *Migrator) Close() error {
	srcErr, dbErr := mg.m.Close()
	return errors.Join(srcErr, dbErr)
}

// MigrateUp applies pending migrations on pool, bounded by ctx.
func MigrateUp(ctx context.Context, pool *pgxpool.Pool, log zerolog.Logger) error {
	// Closing a *sql.DB made from the pool leaves the pool open.
	mg, err := NewMigrator(stdlib.OpenDBFromPool(pool))
	if err != nil {
		return err
	}
	defer mg.Close()
	done := make(chan error, 1)
	go func() { done <- mg.Up() }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		mg.m.GracefulStop <- true
		<-done // let the running migration finish before the connection closes
		return fmt.Errorf("migrate up: %w", ctx.Err())
	}
	v, _, _ := mg.Version()
	log.Info().Uint("version", v).Msg("migrations applied")
	return nil
}
