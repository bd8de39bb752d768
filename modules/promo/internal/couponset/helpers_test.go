package couponset

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// writeGz writes content gzip-compressed into dir/name and returns the path.
func writeGz(t testing.TB, dir, name, content string) string {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, 6)
	zw.Write([]byte(content))
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeFiles writes one gzip file per content and returns their paths.
func writeFiles(t testing.TB, dir string, contents ...string) []string {
	t.Helper()
	var paths []string
	for i, c := range contents {
		paths = append(paths, writeGz(t, dir, "f"+string(rune('a'+i))+".gz", c))
	}
	return paths
}

// reference computes the valid set the slow, obvious way.
func reference(contents []string, m int) []string {
	counts := map[string]int{}
	for _, c := range contents {
		seen := map[string]bool{}
		for line := range strings.SplitSeq(c, "\n") {
			t := strings.TrimSpace(line)
			if t == "" || t[0] == '#' {
				continue
			}
			u := strings.ToUpper(t)
			if n := utf8.RuneCountInString(u); n < MinLen || n > MaxLen {
				continue
			}
			if !seen[u] {
				seen[u] = true
				counts[u]++
			}
		}
	}
	out := []string{}
	for c, n := range counts {
		if n >= m {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func mustBuild(t testing.TB, o Options) (*Set, Stats) {
	t.Helper()
	if o.TempDir == "" {
		o.TempDir = t.TempDir()
	}
	set, st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return set, st
}

// allDecoders lists the decoders to test: ISA-L when compiled in, igzip
// when installed (its absence is logged).
func allDecoders(t *testing.T) []string {
	d := []string{DecoderKlauspost, DecoderStd}
	if isalAvailable {
		d = append(d, DecoderISAL)
	}
	if igzipPath() != "" {
		return append(d, DecoderIgzip)
	}
	t.Logf("igzip not installed: testing the pure-Go decoders only")
	return d
}

func codes(s *Set) []string {
	c := s.Codes()
	if c == nil {
		return []string{}
	}
	return c
}
