package test

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"minikart/platform/config"
)

// TestCommandsFailAtOnceOnWhatRetryingCannotFix runs `migrate version` on
// a role the server does not know and on a database that does not exist:
// each fails within moments, saying what is wrong, instead of retrying
// until the deadline and calling the database unreachable.
func TestCommandsFailAtOnceOnWhatRetryingCannotFix(t *testing.T) {
	good, err := url.Parse(newDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	wrongRole := *good
	wrongRole.User = url.UserPassword("nobody_here", "x")
	missing := *good
	missing.Path = "/no_such_database"
	for _, tc := range []struct {
		name, url, want string
	}{
		{"wrong role", wrongRole.String(), "the server refused the role or its password"},
		{"missing database", missing.String(), "the database does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runCommandOn(t, tc.url, "migrate", []string{"version"}, &stdout, &stderr)
			// A retry says "database not reachable yet" (a warning) before
			// it tries again: neither may appear.
			if code != 1 || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "not reachable") ||
				strings.Contains(stderr.String(), " WRN ") {
				t.Errorf("exit %d, stderr %q; want 1 and %q at the first attempt", code, stderr.String(), tc.want)
			}
			if strings.Contains(stderr.String(), "x@") || strings.Contains(stderr.String(), ":x") {
				t.Errorf("stderr shows the password: %q", stderr.String())
			}
		})
	}
}

// TestCommandOnADatabaseDownSpeaksToAPerson runs `migrate version` with
// nothing listening: one readable line for the problem while it waits a
// few seconds, then one line for the error, and no JSON.
func TestCommandOnADatabaseDownSpeaksToAPerson(t *testing.T) {
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := runCommandOn(t, "postgres://minikart:pw@127.0.0.1:1/minikart", "migrate", []string{"version"}, &stdout, &stderr)
	took := time.Since(start)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	warn := regexp.MustCompile(`^\d\d:\d\d:\d\d WRN database not reachable yet .*database=127\.0\.0\.1:1/minikart .*retrying_for=5s`)
	if code != 1 || len(lines) != 2 || !warn.MatchString(lines[0]) ||
		!strings.HasPrefix(lines[1], "error: database not reachable within 5s (") || !strings.Contains(lines[1], "connection refused") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1, a warning line and an error line", code, stderr.String())
	}
	// The 5 s wait, and building the graph on a busy machine; not the
	// server's database.start_deadline.
	if took < 4*time.Second || took > 20*time.Second {
		t.Errorf("took %v; want the command's 5 s wait", took)
	}
}

// TestCommandSaysWhichDatabaseItUses runs `migrate version` at log level
// info: it names the database it works on, host:port/database, in one
// readable line, without the password.
func TestCommandSaysWhichDatabaseItUses(t *testing.T) {
	u, err := url.Parse(newDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{"database.url": u.String(), "log.level": "info"}})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runCommandFrom(t, src, "migrate", []string{"version"}, &stdout, &stderr)
	want := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d INF using database ` + regexp.QuoteMeta(u.Host+u.Path) + `$`)
	if code != 0 || !want.MatchString(stderr.String()) || strings.Count(stderr.String(), "using database") != 1 {
		t.Errorf("exit %d, stderr %q; want 0 and one line matching %s", code, stderr.String(), want)
	}
	if p, ok := u.User.Password(); ok && p != "" && strings.Contains(stderr.String(), p) {
		t.Errorf("stderr shows the password: %q", stderr.String())
	}
}
