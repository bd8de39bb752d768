package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"minikart/platform/cli"
)

// newMigrateCommand is `minikart migrate up|down|version|force N`.
func newMigrateCommand(pool *pgxpool.Pool, c Config, log zerolog.Logger) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "apply, roll back one, show, or (after repairing a failed one) mark migrations",
	}
	sub := func(use, short string, args cobra.PositionalArgs, step func(*Migrator, []string) error) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  args,
			RunE: func(cc *cobra.Command, args []string) error {
				defer pool.Close()
				return runMigrate(cc.Context(), pool, c, log, cc.OutOrStdout(), func(mg *Migrator) error {
					return step(mg, args)
				})
			},
		}
	}
	cmd.AddCommand(
		sub("up", "apply every pending migration", cobra.NoArgs, func(mg *Migrator, _ []string) error { return mg.Up() }),
		sub("down", "roll back the most recent migration", cobra.NoArgs, func(mg *Migrator, _ []string) error { return mg.Down() }),
		sub("version", "show the applied version and whether it is dirty", cobra.NoArgs, func(*Migrator, []string) error { return nil }),
		sub("force N", "record version N as applied and clean, running nothing (-1: none); after repairing a failed migration by hand",
			forceArgs, func(mg *Migrator, args []string) error {
				n, _ := strconv.Atoi(args[0]) // forceArgs checked it
				return mg.Force(n)
			}),
	)
	return cmd
}

// forceArgs accepts one version the binary has, or -1, before the command
// connects to anything.
func forceArgs(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("migrate force takes one version, got %d arguments", len(args))
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return cli.Usagef("migrate force: %q is not a version (a number, or -1 for none)", args[0])
	}
	if err := checkForceVersion(n); err != nil {
		return cli.Usagef("%s", err)
	}
	return nil
}

// commandWait bounds how long a command waits for the database to answer:
// a person waits for it, unlike the server, which waits
// database.start_deadline for a database starting beside it.
const commandWait = 5 * time.Second

// runMigrate runs step on a migrator over pool, then prints the version.
func runMigrate(ctx context.Context, pool *pgxpool.Pool, c Config, log zerolog.Logger, stdout io.Writer, step func(*Migrator) error) error {
	if err := PingWithRetry(ctx, pool, min(c.StartDeadline, commandWait), log); err != nil {
		return err
	}
	mg, err := NewMigrator(stdlib.OpenDBFromPool(pool))
	if err != nil {
		return err
	}
	defer mg.Close()
	if err := step(mg); errors.Is(err, ErrNothingToRollBack) {
		fmt.Fprintln(stdout, "nothing to roll back: no migration is applied (version 0)")
		return nil
	} else if err != nil {
		return err
	}
	v, dirty, err := mg.Version()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d dirty %t\n", v, dirty)
	return nil
}
