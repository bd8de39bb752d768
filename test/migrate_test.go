package test

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"minikart/migrations"
)

// TestMigrateDownToZeroAndBeyond rolls every migration back one by one, then
// asks for one more: at version 0 there is nothing to roll back, which is
// said plainly and is no error. migrate up then restores the schema.
func TestMigrateDownToZeroAndBeyond(t *testing.T) {
	url := newDatabase(t)
	ups, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(ups) == 0 {
		t.Fatalf("migrations: %v %v", ups, err)
	}
	migrate := func(arg string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := runCommandOn(t, url, "migrate", []string{arg}, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	for v := len(ups) - 1; v >= 0; v-- {
		code, out, errOut := migrate("down")
		if code != 0 || !strings.Contains(out, fmt.Sprintf("version %d dirty false", v)) {
			t.Fatalf("migrate down to %d: exit %d, stdout %q, stderr %q", v, code, out, errOut)
		}
	}
	code, out, errOut := migrate("down")
	if code != 0 || !strings.Contains(out, "nothing to roll back") || strings.Contains(errOut, "error") {
		t.Fatalf("migrate down at version 0: exit %d, stdout %q, stderr %q; want exit 0 and \"nothing to roll back\"", code, out, errOut)
	}
	code, out, errOut = migrate("up")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("version %d dirty false", len(ups))) {
		t.Fatalf("migrate up: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
