package coupongen

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"slices"
	"testing"

	"minikart/modules/promo/internal/couponset"
)

// readLines decompresses a generated file.
func readLines(t *testing.T, path string) []string {
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
	var out []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRealProfile(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(context.Background(), Config{Profile: ProfileReal, Scale: 0.0002, Dir: dir, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.ValidCount != len(ValidCodes) {
		t.Fatalf("valid count %d", res.ValidCount)
	}
	specialIn := map[string][]int{}
	for i, f := range res.Files {
		lines := readLines(t, f)
		if int64(len(lines)) != res.Lines[i] || res.Lines[i] != scaled(realLines[i], 0.0002) {
			t.Errorf("file %d: %d lines, result says %d", i, len(lines), res.Lines[i])
		}
		eights := 0
		for at, l := range lines {
			if len(l) == 8 {
				eights++
			}
			if realSpecial[l] {
				specialIn[l] = append(specialIn[l], i)
				if at < len(lines)-1000 {
					t.Errorf("%s at line %d of %d: not near the end", l, at, len(lines))
				}
				continue
			}
			if len(l) != 8+i {
				t.Fatalf("file %d line %q: wrong length", i, l)
			}
			for _, c := range l {
				if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
					t.Fatalf("file %d line %q: outside A-Z0-9", i, l)
				}
			}
		}
		if i > 0 && eights != 8 {
			t.Errorf("file %d has %d lines of 8, want 8", i, eights)
		}
	}
	for _, c := range ValidCodes {
		if len(specialIn[c]) < 2 {
			t.Errorf("%s only in files %v", c, specialIn[c])
		}
	}
	for _, c := range NearMisses {
		if len(specialIn[c]) != 1 {
			t.Errorf("near miss %s in files %v", c, specialIn[c])
		}
	}
	set, _, err := couponset.Build(context.Background(), couponset.Options{Files: res.Files, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ReadExpected(res.Expected)
	if got := set.Codes(); !slices.Equal(got, want) || !slices.Equal(want, ValidCodes) {
		t.Fatalf("built %q, expected file %q", got, want)
	}
}

func TestDenseProfile(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(context.Background(), Config{Profile: ProfileDense, Scale: 0.002, Dir: dir, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	lens := map[int]int{}
	for _, f := range res.Files {
		seen := map[string]bool{}
		lines := readLines(t, f)
		if len(lines) != 60000 {
			t.Fatalf("%s: %d lines", f, len(lines))
		}
		for _, l := range lines {
			lens[len(l)]++
			if !seen[l] {
				seen[l] = true
				counts[l]++
			}
		}
	}
	var want []string
	for c, n := range counts {
		if n >= 2 {
			want = append(want, c)
		}
	}
	slices.Sort(want)
	got, _ := ReadExpected(res.Expected)
	if !slices.Equal(got, want) {
		t.Fatalf("expected file has %d codes, files hold %d in two or more", len(got), len(want))
	}
	// About a third of each file's lines are shared codes.
	shared := float64(len(want)) * 0.75 * 3 / (3 * 60000)
	if shared < 0.3 || shared > 0.37 {
		t.Errorf("shared fraction %.2f", shared)
	}
	for l := 8; l <= 10; l++ {
		if lens[l] < 50000 {
			t.Errorf("only %d lines of length %d", lens[l], l)
		}
	}
	set, _, err := couponset.Build(context.Background(), couponset.Options{Files: res.Files, TempDir: t.TempDir(), MemoryBudget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Codes(), want) {
		t.Fatal("built set differs from the expected file")
	}
}

func TestReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := Generate(context.Background(), Config{Profile: ProfileDense, Scale: 0.0001, Dir: d, Seed: 9}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range append(slices.Clone(FileNames), ExpectedFile) {
		x, _ := os.ReadFile(a + "/" + n)
		y, _ := os.ReadFile(b + "/" + n)
		if !slices.Equal(x, y) {
			t.Errorf("%s differs between runs with the same seed", n)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{Profile: "sparse", Scale: 1}, {Profile: ProfileReal, Scale: 0}, {Profile: ProfileReal, Scale: -1}} {
		c.Dir = t.TempDir()
		if _, err := Generate(context.Background(), c); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}
