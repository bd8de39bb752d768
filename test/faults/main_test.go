//go:build faults

// Package faults runs the server binary through the usual failures under
// load: SIGTERM, SIGKILL, a PostgreSQL restart, a PostgreSQL failover to a
// promoted standby, PostgreSQL unreachable at start, bad coupon files, and
// two instances sharing one database. The database is the judge: every
// order a client saw as 200 is stored, none twice.
package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"minikart/test/internal/harness"
)

// binary is the server, built once with the race detector.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "minikart-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "minikart")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-race", "-o", binary, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// repoRoot is the repository root; the tests run in their package
// directory, inside it.
func repoRoot() string {
	root, err := harness.RepoRoot()
	if err != nil {
		panic(err)
	}
	return root
}
