// Command devdb runs the checkout's own PostgreSQL cluster `make run` uses,
// started from the installed binaries (installed first with apt when we are
// root and they are missing). The cluster lives outside the checkout, where
// the postgres user can reach it (see pgtest.DevDir).
//
//	go run ./test/devdb start   start (initialising on first use), create the database, print its URL
//	                            and record it in .devdb/url, where the checkout's commands find it
//	go run ./test/devdb stop    stop it
//	go run ./test/devdb dir     print where the cluster lives
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"minikart/platform/db"
	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

const database = "minikart"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: devdb start|stop|dir")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devdb:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	dir := pgtest.DevDir(root)
	switch cmd {
	case "dir":
		fmt.Fprintln(stdout, dir)
		return nil
	case "start":
		if err := ensureServer(ctx, stderr); err != nil {
			return err
		}
		c, err := pgtest.StartPersistent(ctx, dir)
		if err != nil {
			return fmt.Errorf("%w\n(the cluster lives in %s; remove it to start afresh)", err, dir)
		}
		if err := c.CreateDatabase(ctx, database); err != nil {
			return err
		}
		// The checkout's commands (migrate, catalog import, …) find their
		// database here in development, whatever port it got.
		url := c.URL(database)
		file := filepath.Join(root, db.DevURLFile)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, []byte(url+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, url)
		return nil
	case "stop":
		c, err := pgtest.Existing(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil // never initialised
		}
		if err != nil {
			return err
		}
		if !c.Running(ctx) {
			return nil
		}
		return c.Stop()
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// ensureServer installs the PostgreSQL server binaries with apt when they
// are missing and we are root; otherwise it says the one command to run.
func ensureServer(ctx context.Context, stderr io.Writer) error {
	if _, err := pgtest.BinDir(); err == nil {
		return nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		return errors.New("no PostgreSQL server binaries (initdb) found: run `sudo " + pgtest.InstallCommand +
			"` (or your system's PostgreSQL server package), or set DATABASE_URL to a server you may create databases on")
	}
	fmt.Fprintln(stderr, "devdb: PostgreSQL server binaries missing; installing: apt-get update && "+pgtest.InstallCommand)
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %v: %w: install PostgreSQL by hand (%s) or set DATABASE_URL", args, err, pgtest.InstallCommand)
		}
	}
	_, err := pgtest.BinDir()
	return err
}
