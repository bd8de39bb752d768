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
