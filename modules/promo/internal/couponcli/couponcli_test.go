package couponcli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minikart/modules/promo/internal/couponset"
)

func run(t *testing.T, d Defaults, args ...string) (string, string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	err := Run(context.Background(), args, d, &out, &errw)
	return out.String(), errw.String(), err
}

func TestGenerateBuildCheck(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, Defaults{}, "generate", "--profile", "real", "--scale", "0.0002", "--out", dir, "--seed", "2")
	if err != nil || !strings.Contains(out, "8 valid codes") {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	var files []string
	for _, n := range []string{"couponbase1.gz", "couponbase2.gz", "couponbase3.gz"} {
		files = append(files, filepath.Join(dir, n))
	}
	idx := filepath.Join(dir, "coupons.idx")
	d := Defaults{Files: files, MinFiles: 2, IndexPath: idx}

	if _, _, err := run(t, d, "check", "BIRTHDAY"); err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "coupons build") {
		t.Fatalf("check before build: %v", err)
	}
	out, errOut, err := run(t, d, "build", "--decoder", "klauspost")
	if err != nil || !strings.Contains(out, "built 8 valid codes") || !strings.Contains(out, idx) {
		t.Fatalf("build: %v\n%s\n%s", err, out, errOut)
	}
	for code, wantExit := range map[string]int{"birthday": 0, " OVER9000 ": 0, "SUPER100": 1, "MOODYHRS": 1, "OVER900000": 1, "SHORT": 1} {
		out, _, err := run(t, d, "check", code)
		if ExitCode(err) != wantExit {
			t.Errorf("check %q: exit %d (%v), want %d; output %q", code, ExitCode(err), err, wantExit, out)
		}
	}
	out, _, _ = run(t, d, "check", "short")
	if out != "short: invalid length\n" {
		t.Errorf("check short printed %q", out)
	}
	// Flags after the code, overriding the defaults.
	out, _, err = run(t, Defaults{}, "check", "FIFTYOFF", "--index", idx, "--files", strings.Join(files, ","))
	if err != nil || out != "FIFTYOFF: valid\n" {
		t.Errorf("check with flags after the code: %q, %v", out, err)
	}
	// A different min-files does not match the index.
	if _, _, err := run(t, d, "check", "FIFTYOFF", "--min-files", "3"); ExitCode(err) != 2 {
		t.Errorf("stale index check: %v", err)
	}
}

func TestBuildPrintsItsTimeline(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, Defaults{}, "generate", "--scale", "0.0002", "--out", dir); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, Defaults{}, "build", "--files", dir, "--timeline")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"start_s    end_s   busy_s    cpu_s  phase\n", "  inflate couponbase1.gz\n", "  parse couponbase3.gz\n", "  join\n", "  build\n", "cores busy: "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	out, _, err = run(t, Defaults{}, "build", "--files", dir)
	if err != nil || strings.Contains(out, "cores busy") {
		t.Errorf("without --timeline: %v\n%s", err, out)
	}
}

func TestBuildLogsWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); err != nil {
		t.Fatal(err)
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

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"build", "--files", ""},
		{"build", "extra"},
		{"check"},
		{"check", "A", "B", "--index", "x"},
		{"check", "ABCDEFGH"},
		{"generate", "--profile", "sparse", "--out", "/nonexistent/x"},
		{"build", "--no-such-flag"},
	}
	for _, args := range cases {
		_, _, err := run(t, Defaults{}, args...)
		if err == nil || ExitCode(err) != 2 {
			t.Errorf("%q: err = %v, exit %d", args, err, ExitCode(err))
		}
	}
	if _, _, err := run(t, Defaults{}, "build", "-h"); ExitCode(err) != 0 || !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	out, _, err := run(t, Defaults{}, "help")
	if err != nil || !strings.Contains(out, "exit status") {
		t.Errorf("help: %v %q", err, out)
	}
}

func TestBuildUsesTheConfiguredDecoder(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "couponbase1.gz"), filepath.Join(dir, "couponbase2.gz"), filepath.Join(dir, "couponbase3.gz")}
	for _, decoder := range []string{"gzip", "klauspost"} {
		d := Defaults{Files: files, MinFiles: 2, IndexPath: filepath.Join(dir, "coupons.idx"), Decoder: decoder}
		out, _, err := run(t, d, "build")
		if err != nil || !strings.Contains(out, " with "+decoder+" ") {
			t.Errorf("promo.decoder %s: %v\n%s", decoder, err, out)
		}
	}
	d := Defaults{Files: files, MinFiles: 2, Decoder: "gzip"}
	if out, _, err := run(t, d, "build", "--decoder", "klauspost"); err != nil || !strings.Contains(out, " with klauspost ") {
		t.Errorf("--decoder over promo.decoder: %v\n%s", err, out)
	}
}

func TestGeneratedDirectoryGetsItsOwnIndex(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir)
	if err != nil || !strings.Contains(out, "coupons build --files "+dir) || !strings.Contains(out, "MINIKART_PROMO_FILES="+filepath.Join(dir, "couponbase1.gz")+",") {
		t.Fatalf("generate does not say how to use its files: %v\n%s", err, out)
	}
	// The configured set and its index stay as they are.
	configured := filepath.Join(t.TempDir(), "configured.idx")
	d := Defaults{Files: []string{"/nonexistent/a.gz", "/nonexistent/b.gz"}, MinFiles: 2, IndexPath: configured}
	out, _, err = run(t, d, "build", "--files", dir)
	own := filepath.Join(dir, "coupons.idx")
	if err != nil || !strings.Contains(out, "index "+own) {
		t.Fatalf("build --files DIR: %v\n%s", err, out)
	}
	if _, _, err := run(t, d, "check", "--files", dir, "BIRTHDAY"); err != nil {
		t.Errorf("check --files DIR: %v", err)
	}
	if _, _, err := couponset.IndexOwner(configured); err == nil {
		t.Error("building another set wrote the configured index")
	}
}

func TestBuildRefusesAnIndexOfOtherFiles(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, _, err := run(t, Defaults{}, "generate", "--scale", "0.0001", "--out", dir); err != nil {
			t.Fatal(err)
		}
	}
	idx := filepath.Join(t.TempDir(), "shared.idx")
	if _, _, err := run(t, Defaults{}, "build", "--files", a, "--index", idx); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, Defaults{}, "build", "--files", b, "--index", idx)
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "belongs to other files ("+filepath.Join(a, "couponbase1.gz")) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("build over another set's index: %v", err)
	}
	_, _, err = run(t, Defaults{}, "check", "BIRTHDAY", "--files", b, "--index", idx)
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "built for other files") {
		t.Errorf("check against another set's index: %v", err)
	}
	if _, _, err := run(t, Defaults{}, "build", "--files", b, "--index", idx, "--force"); err != nil {
		t.Errorf("--force: %v", err)
	}
	// New versions of the same files replace their own index without --force.
	if _, _, err := run(t, Defaults{}, "generate", "--scale", "0.0001", "--seed", "9", "--out", b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, Defaults{}, "build", "--files", b, "--index", idx); err != nil {
		t.Errorf("rebuild for new versions of the same files: %v", err)
	}
}

func TestMissingFilesAreNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "real-0.01")
	for _, cmd := range []string{"build", "check"} {
		args := []string{cmd, "--files", missing}
		if cmd == "check" {
			args = append(args, "HAPPYHRS")
		}
		_, _, err := run(t, Defaults{}, args...)
		if ExitCode(err) != 2 || !strings.Contains(err.Error(), "no coupon file or directory "+missing) {
			t.Errorf("%s --files MISSING: %v", cmd, err)
		}
	}
}
