// Command cluster runs the production topology on this machine's loopback,
// from the installed packages (Debian: patroni etcd-server haproxy nginx
// prometheus, and PostgreSQL) and without containers or systemd: three etcd
// members, three PostgreSQL nodes under Patroni with synchronous
// replication, HAProxy leading to the primary, three minikart instances
// sharing one coupon index, nginx in front and Prometheus scraping the
// instances' admin listeners. Each part runs as its package's system user
// when started by root (PostgreSQL and Patroni as postgres), in a directory
// outside the checkout (go run ./test/cluster dir), with the configuration
// files deploy/ ships.
//
//	go run ./test/cluster up       start what does not run yet; print where each part listens
//	go run ./test/cluster down     stop everything (the data stays for the next up)
//	go run ./test/cluster status   what runs, where, and each PostgreSQL node's role
//	go run ./test/cluster dir      print the cluster's directory (remove it, stopped, to start afresh)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cluster up|down|status|dir")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// stateDir is where the checkout at root keeps its cluster.
func stateDir(root string) string { return pgtest.StateDir(root, "cluster") }

func run(ctx context.Context, cmd string, w io.Writer) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if cmd == "dir" {
		fmt.Fprintln(w, stateDir(root))
		return nil
	}
	t, err := newTopology(stateDir(root), root)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		if err := t.up(ctx, w); err != nil {
			return err
		}
		t.status(w)
		return nil
	case "down":
		return t.down(w)
	case "status":
		t.status(w)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}
