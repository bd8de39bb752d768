package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"minikart/platform/db"
	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

// TestStaticAnchorServesTheBytesInAProcessOfItsOwn builds this command,
// starts it as the static anchor and checks that it answers the catalogue's
// bytes and content type from another process, and is gone once stopped.
func TestStaticAnchorServesTheBytesInAProcessOfItsOwn(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "load")
	if out, err := exec.Command("go", "build", "-o", self, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	body := []byte(`[{"id":"1","name":"Waffle with Berries"}]`)
	static, err := startStatic(context.Background(), self, body, "application/json; charset=utf-8", dir)
	if err != nil {
		t.Fatal(err)
	}
	if static.pid == os.Getpid() || static.pid <= 0 {
		t.Fatalf("static anchor pid %d, this process %d", static.pid, os.Getpid())
	}
	res, err := http.Get(static.base + "/api/product")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != string(body) || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET /api/product: %s %q %q", res.Status, res.Header.Get("Content-Type"), got)
	}
	if res, err := http.Get(static.base + "/api/product/1"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /api/product/1: %v %v", res, err)
	}
	static.stop()
	if err := syscall.Kill(static.pid, 0); err == nil {
		t.Fatalf("static anchor %d still running after stop", static.pid)
	}
}

// TestStaticAnchorGoesWithTheLoadTest checks that the static anchor stops
// on its own when the process that started it is gone (its stdin ends),
// so that a killed load test leaves no server behind.
func TestStaticAnchorGoesWithTheLoadTest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "body")
	if err := os.WriteFile(path, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, closeStdin := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serveStatic(path, "application/json", stdin, outW) }()
	line := make([]byte, 64)
	n, _ := outR.Read(line)
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	base := strings.TrimSpace(string(line[:n]))
	if res, err := http.Get(base + "/api/product"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/api/product: %v %v", base, res, err)
	}
	closeStdin.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("static anchor still serving after its stdin ended")
	}
}

// The pgbench anchor starts its sessions as the server's pool does, so that
// it runs the order's SQL under the same plans (a session left to JIT-compile
// a generic plan the server's never compiles is no anchor).
func TestPgbenchSessionsAreTheServers(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MINIKART_ENV", "")
	got, err := sessionOptions(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-c jit=off -c plan_cache_mode=force_generic_plan"; got != want {
		t.Errorf("production's sessions: PGOPTIONS %q, want %q", got, want)
	}
	t.Setenv("MINIKART_DATABASE_JIT", "on")
	t.Setenv("MINIKART_DATABASE_PLAN_CACHE_MODE", "")
	got, err = sessionOptions(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-c jit=on"; got != want {
		t.Errorf("with MINIKART_DATABASE_JIT=on and no plan_cache_mode: PGOPTIONS %q, want %q", got, want)
	}
}

// The pgbench anchor writes what the server writes: orders with
// time-ordered (version 7) ids, each with its two items and an idempotency
// key, in sessions started with the server's settings.
func TestPgbenchAnchorWritesOrdersAsTheServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgtest.StartThrowaway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	if err := c.CreateDatabase(ctx, "anchor"); err != nil {
		t.Fatal(err)
	}
	url := c.URL("anchor")
	if err := harness.Migrate(url, (*db.Migrator).Up); err != nil {
		t.Fatal(err)
	}
	// A setting PostgreSQL refuses fails every session: the options reach them.
	if _, _, err := runPgbench(ctx, url, "-c jit=sideways", 1, time.Second, 0, t.TempDir()); err == nil {
		t.Error("pgbench ran with PGOPTIONS -c jit=sideways")
	}
	pr, _, err := runPgbench(ctx, url, "-c jit=off -c plan_cache_mode=force_generic_plan", 2, time.Second, 0, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Query(ctx, "anchor", `SELECT count(*), count(*) FILTER (WHERE substr(id::text, 15, 1) <> '7'),
		count(*) FILTER (WHERE abs(extract(epoch FROM now()) * 1000 - ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) > 600000),
		(SELECT count(*) FROM order_items), (SELECT count(*) FROM idempotency_keys)
		FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(got, "|")
	if len(f) != 5 || f[0] == "0" || f[1] != "0" || f[2] != "0" || f[3] != strconv.Itoa(2*atoi(t, f[0])) || f[4] != f[0] {
		t.Errorf("orders, not version 7, not of this minute, items, keys = %v (pgbench: %d transactions); want n>0, 0, 0, 2n, n", f, pr.Requests)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
