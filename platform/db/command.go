package db

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"minikart/platform/cli"
)

// newMigrateCommand is `minikart migrate up|down|version`.
func newMigrateCommand(pool *pgxpool.Pool, c Config, log zerolog.Logger) cli.Command {
	return cli.Command{
		Name:    "migrate",
		Usage:   "up|down|version",
		Summary: "apply, roll back one, or show database migrations",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			defer pool.Close()
			if err := runMigrate(ctx, args, pool, c, log.Output(stderr), stdout); err != nil {
				fmt.Fprintln(stderr, "error:", err)
				return 1
			}
			return 0
		},
	}
}

func runMigrate(ctx context.Context, args []string, pool *pgxpool.Pool, c Config, log zerolog.Logger, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: minikart migrate up|down|version")
	}
	if args[0] != "up" && args[0] != "down" && args[0] != "version" {
		return fmt.Errorf("unknown migrate command %q (want up, down or version)", args[0])
	}
	if err := PingWithRetry(ctx, pool, c.StartDeadline, log); err != nil {
		return err
	}
	mg, err := NewMigrator(stdlib.OpenDBFromPool(pool))
	if err != nil {
		return err
	}
	defer mg.Close()
	switch args[0] {
	case "up":
		err = mg.Up()
	case "down":
		err = mg.Down()
	}
	if err != nil {
		return err
	}
	v, dirty, err := mg.Version()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d dirty %t\n", v, dirty)
	return nil
}
