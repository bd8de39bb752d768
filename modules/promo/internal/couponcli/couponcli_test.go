package couponcli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/cli"
)

// run runs `coupons args…` as the application does, and returns what it
// printed and its exit status.
func run(t *testing.T, d Defaults, args ...string) (string, string, int) {
	t.Helper()
	var out, errw bytes.Buffer
	code := cli.Execute(context.Background(), Command(d), args, &out, &errw)
	return out.String(), errw.String(), code
}

func TestGenerateBuildCheck(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, Defaults{}, "generate", "--profile", "real", "--scale", "0.0002", "--out", dir, "--seed", "2")
	if code != 0 || !strings.Contains(out, "8 valid codes") {
		t.Fatalf("generate: %v\n%s", errOut, out)
	}
	var files []string
	for _, n := range []string{"couponbase1.gz", "couponbase2.gz", "couponbase3.gz"} {
		files = append(files, filepath.Join(dir, n))
	}
	idx := filepath.Join(dir, "coupons.idx")
	d := Defaults{Files: files, MinFiles: 2, IndexPath: idx}

	if _, errOut, code := run(t, d, "check", "BIRTHDAY"); code != 1 || !strings.Contains(errOut, "coupons build") {
		t.Fatalf("check before build: %v", errOut)
	}
	out, errOut, code = run(t, d, "build", "--decoder", "klauspost")
	if code != 0 || !strings.Contains(out, "built 8 valid codes") || !strings.Contains(out, idx) {
		t.Fatalf("build: %v\n%s\n%s", errOut, out, errOut)
	}
	for coupon, wantExit := range map[string]int{"birthday": 0, " OVER9000 ": 0, "SUPER100": 1, "MOODYHRS": 1, "OVER900000": 1, "SHORT": 1} {
		out, errOut, code := run(t, d, "check", coupon)
		if code != wantExit || errOut != "" {
			t.Errorf("check %q: exit %d (%q), want %d and nothing on stderr; output %q", coupon, code, errOut, wantExit, out)
		}
	}
	out, _, _ = run(t, d, "check", "short")
	if out != "short: invalid length\n" {
		t.Errorf("check short printed %q", out)
	}
	// Flags after the code, overriding the defaults.
	out, errOut, code = run(t, Defaults{}, "check", "FIFTYOFF", "--index", idx, "--files", strings.Join(files, ","))
	if code != 0 || out != "FIFTYOFF: valid\n" {
		t.Errorf("check with flags after the code: %q, %v", out, errOut)
	}
	// A different min-files does not match the index.
	if _, errOut, code := run(t, d, "check", "FIFTYOFF", "--min-files", "3"); code != 1 {
		t.Errorf("stale index check: %v", errOut)
	}
}

func TestBuildPrintsItsTimeline(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0002", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := run(t, Defaults{}, "build", "--files", dir, "--timeline")
	if code != 0 {
		t.Fatal(errOut)
	}
	for _, want := range []string{"start_s    end_s   busy_s    cpu_s  phase\n", "  inflate couponbase1.gz\n", "  parse couponbase3.gz\n", "  join\n", "  build\n", "cores busy: "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	out, errOut, code = run(t, Defaults{}, "build", "--files", dir)
	if code != 0 || strings.Contains(out, "cores busy") {
		t.Errorf("without --timeline: exit %d %s\n%s", code, errOut, out)
	}
}

func TestBuildLogsWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	r := newReporter(&bytes.Buffer{}, "build", true)
	if r.bar != nil {
		t.Fatal("a buffer is not a terminal: no bar expected")
	}
	var log bytes.Buffer
	r = newReporter(&log, "build", true)
	r.lastLog = r.lastLog.Add(-3 * time.Second)
	r.update(50e6, 100e6, "MB compressed")
	if !strings.Contains(log.String(), "build:  50% 50/100 MB compressed") || !strings.Contains(log.String(), "ETA") {
		t.Errorf("log line %q", log.String())
	}
}

func TestUsageErrorsAndFailures(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{}, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"build", "extra"}, 2},
		{[]string{"check"}, 2},
		{[]string{"check", "A", "B", "--index", "x"}, 2},
		{[]string{"build", "--no-such-flag"}, 2},
		{[]string{"build", "--files", ""}, 1},
		{[]string{"check", "ABCDEFGH"}, 1},
		{[]string{"generate", "--profile", "sparse", "--out", "/nonexistent/x"}, 1},
	}
	for _, c := range cases {
		if _, errOut, code := run(t, Defaults{}, c.args...); code != c.code || !strings.HasPrefix(errOut, "error: ") {
			t.Errorf("%q: exit %d, stderr %q; want %d", c.args, code, errOut, c.code)
		}
	}
	if out, _, code := run(t, Defaults{}, "build", "-h"); code != 0 || !strings.Contains(out, "--min-files") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
	out, _, code := run(t, Defaults{}, "help")
	if code != 0 || !strings.Contains(out, "Exit status") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

func TestBuildUsesTheConfiguredDecoder(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	files := []string{filepath.Join(dir, "couponbase1.gz"), filepath.Join(dir, "couponbase2.gz"), filepath.Join(dir, "couponbase3.gz")}
	for _, decoder := range []string{"gzip", "klauspost"} {
		d := Defaults{Files: files, MinFiles: 2, IndexPath: filepath.Join(dir, "coupons.idx"), Decoder: decoder}
		out, errOut, code := run(t, d, "build")
		if code != 0 || !strings.Contains(out, " with "+decoder+" ") {
			t.Errorf("promo.decoder %s: %v\n%s", decoder, errOut, out)
		}
	}
	d := Defaults{Files: files, MinFiles: 2, Decoder: "gzip"}
	if out, errOut, code := run(t, d, "build", "--decoder", "klauspost"); code != 0 || !strings.Contains(out, " with klauspost ") {
		t.Errorf("--decoder over promo.decoder: %v\n%s", errOut, out)
	}
}

func TestGeneratedDirectoryGetsItsOwnIndex(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir)
	if code != 0 || !strings.Contains(out, "coupons build --files "+dir) || !strings.Contains(out, "MINIKART_PROMO_FILES="+filepath.Join(dir, "couponbase1.gz")+",") {
		t.Fatalf("generate does not say how to use its files: %v\n%s", errOut, out)
	}
	// The configured set and its index stay as they are.
	configured := filepath.Join(t.TempDir(), "configured.idx")
	d := Defaults{Files: []string{"/nonexistent/a.gz", "/nonexistent/b.gz"}, MinFiles: 2, IndexPath: configured}
	out, errOut, code = run(t, d, "build", "--files", dir)
	own := filepath.Join(dir, "coupons.idx")
	if code != 0 || !strings.Contains(out, "index "+own) {
		t.Fatalf("build --files DIR: %v\n%s", errOut, out)
	}
	if _, errOut, code := run(t, d, "check", "--files", dir, "BIRTHDAY"); code != 0 {
		t.Errorf("check --files DIR: %v", errOut)
	}
	if _, _, err := couponset.IndexOwner(configured); err == nil {
		t.Error("building another set wrote the configured index")
	}
}

func TestBuildRefusesAnIndexOfOtherFiles(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); code != 0 {
			t.Fatal(errOut)
		}
	}
	idx := filepath.Join(t.TempDir(), "shared.idx")
	if _, errOut, code := run(t, Defaults{}, "build", "--files", a, "--index", idx); code != 0 {
		t.Fatal(errOut)
	}
	_, errOut, code := run(t, Defaults{}, "build", "--files", b, "--index", idx)
	if code != 1 || !strings.Contains(errOut, "belongs to other files ("+filepath.Join(a, "couponbase1.gz")) || !strings.Contains(errOut, "--force") {
		t.Errorf("build over another set's index: %v", errOut)
	}
	_, errOut, code = run(t, Defaults{}, "check", "BIRTHDAY", "--files", b, "--index", idx)
	if code != 1 || !strings.Contains(errOut, "built for other files") {
		t.Errorf("check against another set's index: %v", errOut)
	}
	if _, errOut, code := run(t, Defaults{}, "build", "--files", b, "--index", idx, "--force"); code != 0 {
		t.Errorf("--force: %v", errOut)
	}
	// New versions of the same files replace their own index without --force.
	if _, errOut, code := run(t, Defaults{}, "generate", "--scale", "0.0001", "--seed", "9", "--out", b); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := run(t, Defaults{}, "build", "--files", b, "--index", idx); code != 0 {
		t.Errorf("rebuild for new versions of the same files: %v", errOut)
	}
}

func TestMissingFilesAreNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "real-0.01")
	for _, cmd := range []string{"build", "check"} {
		args := []string{cmd, "--files", missing}
		if cmd == "check" {
			args = append(args, "HAPPYHRS")
		}
		_, errOut, code := run(t, Defaults{}, args...)
		if code != 1 || !strings.Contains(errOut, "no coupon file or directory "+missing) {
			t.Errorf("%s --files MISSING: %v", cmd, errOut)
		}
	}
}
