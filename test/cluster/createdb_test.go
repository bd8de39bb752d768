package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"minikart/test/internal/pgtest"
)

// TestCreateAppDatabase runs deploy/'s script, as the cluster's deploy step
// and compose's create-database do, against a real PostgreSQL: it creates
// the role and its database, sets the password, and a second run changes
// nothing but the password. Without a password it refuses.
func TestCreateAppDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.StartThrowaway(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	script := filepath.Join(repoRoot(t), "deploy", "patroni", "create-app-database.sh")
	run := func(env ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "sh", script)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(pg.Port), "PGUSER=postgres", "APP_DB_WAIT=5"}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("APP_DB_USER=shop", "APP_DB_NAME=shopdb"); err == nil || !strings.Contains(out, "APP_DB_PASSWORD") {
		t.Fatalf("without a password: err %v, output %q; want a refusal naming APP_DB_PASSWORD", err, out)
	}
	super, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	password := func() string {
		var p string
		if err := super.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = 'shop'").Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i, pw := range []string{"first-secret", "second secret with a ' quote"} {
		if out, err := run("APP_DB_USER=shop", "APP_DB_NAME=shopdb", "APP_DB_PASSWORD="+pw); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
		var owner string
		var login bool
		if err := super.QueryRow(ctx, `SELECT d.datdba::regrole::text, r.rolcanlogin FROM pg_database d, pg_roles r
			WHERE d.datname = 'shopdb' AND r.rolname = 'shop'`).Scan(&owner, &login); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if owner != "shop" || !login {
			t.Errorf("run %d: shopdb's owner %q, shop may log in: %v", i+1, owner, login)
		}
		if p := password(); !strings.HasPrefix(p, "SCRAM-SHA-256$") && !strings.HasPrefix(p, "md5") {
			t.Errorf("run %d: the role's password is %q", i+1, p)
		}
	}
	var verified bool
	if err := super.QueryRow(ctx, "SELECT count(*) = 1 FROM pg_database WHERE datname = 'shopdb'").Scan(&verified); err != nil || !verified {
		t.Errorf("the second run made a second database or failed: %v", err)
	}
}
