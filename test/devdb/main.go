// Command devdb runs the project-local PostgreSQL cluster `make run` uses:
// data in .devdb/, its own port, started from the installed binaries.
//
//	go run ./test/devdb start   start (initialising on first use) and create the database
//	go run ./test/devdb stop    stop it
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"minikart/test/internal/pgtest"
)

const (
	dir      = ".devdb"
	port     = 55432
	database = "minikart"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: devdb start|stop")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "devdb:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string) error {
	switch cmd {
	case "start":
		c, err := pgtest.StartPersistent(ctx, dir, port)
		if err != nil {
			return err
		}
		if err := c.CreateDatabase(ctx, database); err != nil {
			return err
		}
		fmt.Println(c.URL(database))
		return nil
	case "stop":
		if _, err := os.Stat(dir); err != nil {
			return nil
		}
		c, err := pgtest.Existing(dir, port)
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
