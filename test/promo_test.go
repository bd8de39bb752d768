package test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCouponSetFromGeneratedFiles starts the server on generated files
// shaped like the real ones, checks over HTTP that exactly the expected
// codes are accepted, then restarts it from the index alone.
func TestCouponSetFromGeneratedFiles(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runCommand(t, "coupons",
		[]string{"generate", "--profile", "real", "--scale", "0.0005", "--out", dir, "--seed", "7"},
		&out, &errOut); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errOut.String())
	}
	expected, err := os.ReadFile(filepath.Join(dir, "expected-valid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	valid := strings.Fields(string(expected))
	if len(valid) != 8 {
		t.Fatalf("expected-valid.txt has %d codes, want the 8 of the real files", len(valid))
	}
	files := []string{filepath.Join(dir, "couponbase1.gz"), filepath.Join(dir, "couponbase2.gz"), filepath.Join(dir, "couponbase3.gz")}
	index := filepath.Join(dir, "coupons.idx")
	cfg := map[string]any{"promo.files": files, "promo.index_path": index}

	// One random code from each file: present once, so never valid.
	var singles []string
	for _, f := range files {
		singles = append(singles, firstLine(t, f))
	}
	rejected := append([]string{"SUPER100", "MOODYHRS", "OVER900000", "BIRTHDAY0"}, singles...)

	check := func(a *testApp) {
		t.Helper()
		for _, code := range valid {
			for _, spelled := range []string{code, " " + strings.ToLower(code) + " "} {
				res := a.order(fmt.Sprintf(`{"couponCode":%q,"items":[{"productId":"1","quantity":2}]}`, spelled))
				if res.status != 200 {
					t.Errorf("valid code %q: %d %s", spelled, res.status, res.body)
				}
			}
		}
		for _, code := range rejected {
			res := a.order(fmt.Sprintf(`{"couponCode":%q,"items":[{"productId":"1","quantity":2}]}`, code))
			if res.status != 422 || res.errorCode(t).Error != "INVALID_PROMO_CODE" {
				t.Errorf("code %q: %d %s, want 422 INVALID_PROMO_CODE", code, res.status, res.body)
			}
		}
	}

	first := startApp(t, cfg)
	check(first)
	if m := string(first.do("GET", "/metrics", "").body); !strings.Contains(m, `coupon_set_loads_total{source="build"} 1`) || !strings.Contains(m, "coupon_set_codes 8") {
		t.Errorf("first start did not build the set:\n%s", grepLines(m, "coupon_set"))
	}
	first.fxapp.RequireStop()

	// Destroy the middle of every file, keeping what the fingerprint looks
	// at (size, modification time, the first and last 64 KiB): decoding any
	// file now fails, so only the index can answer.
	const kept = 64 << 10
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() < 4*kept {
			t.Fatalf("%s has %d bytes, too small to keep its ends and lose its middle", f, st.Size())
		}
		fh, err := os.OpenFile(f, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fh.WriteAt(make([]byte, st.Size()-2*kept), kept); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		if err := os.Chtimes(f, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	second := startApp(t, cfg)
	check(second)
	if m := string(second.do("GET", "/metrics", "").body); !strings.Contains(m, `coupon_set_loads_total{source="index_hit"} 1`) || !strings.Contains(m, "coupon_set_lines_read 0") {
		t.Errorf("restart did not come from the index:\n%s", grepLines(m, "coupon_set"))
	}
}

// firstLine returns the first line of a gzip coupon file.
func firstLine(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	if !sc.Scan() {
		t.Fatalf("%s is empty", path)
	}
	return strings.TrimSpace(sc.Text())
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
