// Package couponset computes the exact set of valid coupon codes from the
// gzip coupon files.
package couponset

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdict is the answer of a lookup.
type Verdict int

// Lookup verdicts.
const (
	NotFound Verdict = iota
	Valid
	InvalidLength
)

// Set is an immutable set of valid codes.
type Set struct{ codes map[string]struct{} }

// Progress reports build progress.
type Progress struct {
	File                            string
	CompressedRead, CompressedTotal int64
	Lines                           int64
}

// Options configures Load.
type Options struct {
	Files      []string
	MinFiles   int
	IndexPath  string
	TempDir    string
	OnProgress func(Progress)
}

// Stats describes a load.
type Stats struct {
	FromIndex    bool
	IndexRebuilt bool
	Lines        int64
	Duration     time.Duration
	Decoder      string
}

// Lookup reports whether raw, trimmed and upper-cased, is a valid code.
func (s *Set) Lookup(raw string) Verdict {
	code := strings.ToUpper(strings.TrimSpace(raw))
	if n := utf8.RuneCountInString(code); n < 8 || n > 10 {
		return InvalidLength
	}
	if _, ok := s.codes[code]; ok {
		return Valid
	}
	return NotFound
}

// Len is the number of valid codes.
func (s *Set) Len() int { return len(s.codes) }

// Codes returns the valid codes, sorted.
func (s *Set) Codes() []string {
	out := make([]string, 0, len(s.codes))
	for c := range s.codes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Load reads every file and keeps the codes found in at least MinFiles.
func Load(ctx context.Context, o Options) (*Set, Stats, error) {
	start := time.Now()
	seen := map[string]int{}
	var lines int64
	for _, path := range o.Files {
		inFile := map[string]struct{}{}
		if err := readFile(path, func(line string) {
			lines++
			code := strings.ToUpper(strings.TrimSpace(line))
			if code == "" || code[0] == '#' {
				return
			}
			if n := utf8.RuneCountInString(code); n >= 8 && n <= 10 {
				inFile[code] = struct{}{}
			}
		}); err != nil {
			return nil, Stats{}, err
		}
		for c := range inFile {
			seen[c]++
		}
		if err := ctx.Err(); err != nil {
			return nil, Stats{}, err
		}
	}
	set := &Set{codes: map[string]struct{}{}}
	for c, n := range seen {
		if n >= o.MinFiles {
			set.codes[c] = struct{}{}
		}
	}
	return set, Stats{Lines: lines, Duration: time.Since(start), Decoder: "compress/gzip"}, nil
}

func readFile(path string, fn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("coupon file %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("coupon file %s: %w", path, err)
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("coupon file %s: %w", path, err)
	}
	return nil
}
