package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPersistentClustersOfPrivateCheckouts starts the persistent clusters of
// two checkouts that sit in a private (0700) directory, as a root user's
// clone in mktemp -d does: each gets a directory outside its checkout that
// the server's user can reach, and a port of its own.
func TestPersistentClustersOfPrivateCheckouts(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err)
	}
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var clusters []*Cluster
	for _, name := range []string{"one", "two"} {
		root := filepath.Join(private, name)
		dir := DevDir(root)
		if strings.HasPrefix(dir, private) {
			t.Fatalf("DevDir(%s) = %s, inside the private directory", root, dir)
		}
		if DevDir(root) != dir {
			t.Fatal("DevDir is not stable for one checkout")
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		c, err := StartPersistent(ctx, dir)
		if err != nil {
			t.Fatalf("start the cluster of %s: %v", root, err)
		}
		t.Cleanup(func() { _ = c.Stop() })
		if err := c.CreateDatabase(ctx, "minikart"); err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, c)
	}
	if clusters[0].Dir == clusters[1].Dir || clusters[0].Port == clusters[1].Port {
		t.Fatalf("two checkouts share a cluster directory or port: %s:%d and %s:%d",
			clusters[0].Dir, clusters[0].Port, clusters[1].Dir, clusters[1].Port)
	}
	// A second start reuses the running cluster on its recorded port, and
	// Existing finds it to stop it.
	again, err := StartPersistent(ctx, clusters[0].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Port != clusters[0].Port {
		t.Fatalf("restart took port %d, recorded %d", again.Port, clusters[0].Port)
	}
	e, err := Existing(clusters[1].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if e.Running(ctx) {
		t.Fatal("cluster still running after Stop")
	}
}

// TestStartDurable starts the cluster the load test measures, on disk and
// in memory: every durability setting the throwaway clusters turn off is
// back on, extra settings apply, and Stop removes the files.
func TestStartDurable(t *testing.T) {
	for _, onDisk := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := StartDurable(ctx, onDisk, "checkpoint_timeout=20min")
		if err != nil {
			t.Fatal(err)
		}
		dir := c.Dir
		defer func() { _ = c.Stop() }()
		if inShm := strings.HasPrefix(dir, "/dev/shm/"); inShm == onDisk {
			t.Errorf("cluster on disk %v in %s", onDisk, dir)
		}
		for name, want := range map[string]string{"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "checkpoint_timeout": "20min"} {
			if got, err := c.Setting(ctx, name); err != nil || got != want {
				t.Errorf("on disk %v: %s = %q (%v), want %q", onDisk, name, got, err, want)
			}
		}
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("Stop left %s behind (%v)", dir, err)
		}
	}
}
