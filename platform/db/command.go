package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"minikart/platform/cli"
)

// newMigrateCommand is `minikart migrate up|down|version`.
func newMigrateCommand(pool *pgxpool.Pool, c Config, log zerolog.Logger) cli.Command {
	return cli.Command{
		Name:    "migrate",
		Usage:   "up|down|version|force N",
		Summary: "apply, roll back one, show, or (after repairing a failed one) mark migrations",
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
	force := len(args) == 2 && args[0] == "force"
	if len(args) != 1 && !force {
		return errors.New("usage: minikart migrate up|down|version|force N")
	}
	if !force && args[0] != "up" && args[0] != "down" && args[0] != "version" {
		return fmt.Errorf("unknown migrate command %q (want up, down, version or force N)", args[0])
	}
	forceTo := 0
	if force {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < -1 {
			return fmt.Errorf("migrate force: %q is not a version (a number, or -1 for none)", args[1])
		}
		forceTo = n
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
		if err = mg.Down(); errors.Is(err, ErrNothingToRollBack) {
			fmt.Fprintln(stdout, "nothing to roll back: no migration is applied (version 0)")
			return nil
		}
	case "force":
		err = mg.Force(forceTo)
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
