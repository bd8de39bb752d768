// Package coupongen writes synthetic coupon files for tests and benchmarks.
//
// The "real" profile mimics the production files: couponbase1.gz holds
// 8-character codes, couponbase2.gz 9-character codes plus eight lines of 8,
// couponbase3.gz 10-character codes plus eight lines of 8, all drawn
// uniformly from A–Z0–9 so that repeats inside a file happen by chance as in
// the real data, with the eight valid codes and two near-misses (codes in one
// file only) placed near the ends. The "dense" profile is the hard case for
// memory: three files of equal size with mixed 8/9/10-character codes where
// about a third of every file's lines are codes shared with one or two other
// files.
//
// Files are compressed with the standard library's compress/gzip at level 6,
// like the production files, so decoding benchmarks stay honest. Next to the
// files, expected-valid.txt lists the exact valid set (for MinFiles 2), one
// code per line, sorted.
package coupongen

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Profile names accepted by Generate.
const (
	// ProfileReal mimics the production files.
	ProfileReal = "real"
	// ProfileDense has many codes shared between files.
	ProfileDense = "dense"
)

// ExpectedFile is the name of the file listing the valid codes.
const ExpectedFile = "expected-valid.txt"

// Real-profile line counts at scale 1.0, as in production.
var realLines = [3]int64{107_260_777, 107_260_776, 98_566_152}

// denseLines is the per-file line count of the dense profile at scale 1.0.
const denseLines = 30_000_000

// ValidCodes are the codes valid in the production files, placed in the real
// profile: all in file 1, SIXTYOFF also in file 3, the others in file 2 or 3.
var ValidCodes = []string{"BIRTHDAY", "BUYGETON", "FIFTYOFF", "FREEZAAA", "GNULINUX", "HAPPYHRS", "OVER9000", "SIXTYOFF"}

// NearMisses are codes that appear in exactly one file of the real profile.
var NearMisses = []string{"SUPER100", "MOODYHRS"}

// Config describes what Generate writes.
type Config struct {
	// Profile is ProfileReal or ProfileDense.
	Profile string
	// Scale multiplies the line counts; 1.0 is full size.
	Scale float64
	// Dir receives the files; it is created if needed.
	Dir string
	// Seed makes the output reproducible.
	Seed uint64
	// OnProgress, if set, is called from the writer goroutines with the
	// lines written so far across all files and the total; it must be safe
	// for concurrent use.
	OnProgress func(written, total int64)
}

// Result lists what Generate wrote.
type Result struct {
	// Files are the paths of the gzip files, in order.
	Files []string
	// Lines is the line count of each file.
	Lines []int64
	// Expected is the path of the expected-valid list.
	Expected string
	// ValidCount is the number of codes in the expected-valid list.
	ValidCount int
}

// FileNames are the names of the generated files.
var FileNames = []string{"couponbase1.gz", "couponbase2.gz", "couponbase3.gz"}

// Generate writes the three coupon files and the expected-valid list.
func Generate(ctx context.Context, c Config) (Result, error) {
	if c.Scale <= 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		return Result{}, fmt.Errorf("scale %v: must be a positive number", c.Scale)
	}
	var plans []filePlan
	var expected []string
	switch c.Profile {
	case ProfileReal:
		plans, expected = realPlans(c)
	case ProfileDense:
		plans = densePlans(c)
	default:
		return Result{}, fmt.Errorf("unknown profile %q (want real or dense)", c.Profile)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("create %s: %w", c.Dir, err)
	}
	res := Result{Expected: filepath.Join(c.Dir, ExpectedFile)}
	var total int64
	for i, p := range plans {
		res.Files = append(res.Files, filepath.Join(c.Dir, FileNames[i]))
		res.Lines = append(res.Lines, p.lines)
		total += p.lines
	}
	prog := &progress{total: total, fn: c.OnProgress}
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Go(func() { errs[i] = writeFile(ctx, res.Files[i], p, prog) })
	}
	var shared []uint64
	if c.Profile == ProfileDense {
		// The shared codes are the valid set; collect them while the
		// writers run.
		shared = denseShared(c.Seed, plans[0].sharedTotal)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, f := range res.Files {
			os.Remove(f)
		}
		return Result{}, err
	}
	if c.Profile == ProfileDense {
		expected = sharedCodes(shared)
	}
	slices.Sort(expected)
	expected = slices.Compact(expected)
	if err := writeExpected(res.Expected, expected); err != nil {
		return Result{}, err
	}
	res.ValidCount = len(expected)
	return res, nil
}

type progress struct {
	mu      sync.Mutex
	written int64
	total   int64
	fn      func(written, total int64)
}

func (p *progress) add(n int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	p.written += n
	w := p.written
	p.mu.Unlock()
	p.fn(w, p.total)
}

// filePlan says how to produce the lines of one file.
type filePlan struct {
	lines int64
	seed  uint64
	file  int
	// real profile: every random line has this length, and specials are
	// inserted at the given line numbers.
	length   int
	specials map[int64]string
	// dense profile
	dense       bool
	sharedTotal int64
}

func scaled(n int64, scale float64) int64 {
	return max(int64(math.Round(float64(n)*scale)), 1)
}

func realPlans(c Config) ([]filePlan, []string) {
	v := ValidCodes
	contents := [3][]string{
		append(slices.Clone(v), NearMisses[0]),
		{v[0], v[1], v[2], v[3], v[4], v[5], v[6], NearMisses[1]},
		{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]},
	}
	var plans []filePlan
	for i := range 3 {
		n := max(scaled(realLines[i], c.Scale), int64(len(contents[i])))
		rng := rand.New(rand.NewPCG(c.Seed, uint64(1000+i)))
		// Near the end: within the last 0.1% of lines (at least 100).
		window := min(max(n/1000, 100), n)
		specials := make(map[int64]string)
		for _, code := range contents[i] {
			for {
				at := n - 1 - rng.Int64N(window)
				if _, taken := specials[at]; !taken {
					specials[at] = code
					break
				}
			}
		}
		plans = append(plans, filePlan{lines: n, seed: c.Seed, file: i, length: 8 + i, specials: specials})
	}
	return plans, slices.Clone(v)
}

// Dense profile: shared code j belongs to the files of pattern j%4, so each
// file holds three quarters of the shared codes. Unique codes of file i have
// a packed value ≡ i (mod 4) and shared codes ≡ 3 (mod 4), so a unique code
// can never be in two files and the valid set is exactly the shared codes.
var densePatterns = [4][]int{{0, 1}, {1, 2}, {0, 2}, {0, 1, 2}}

func densePlans(c Config) []filePlan {
	n := scaled(denseLines, c.Scale)
	// A third of each file's lines are shared: 3/4·S = n/3.
	shared := max(n*4/9, 4)
	var plans []filePlan
	for i := range 3 {
		plans = append(plans, filePlan{lines: n, seed: c.Seed, file: i, dense: true, sharedTotal: shared})
	}
	return plans
}

func inPattern(j int64, file int) bool {
	return slices.Contains(densePatterns[j%4], file)
}

var pow36 = func() (p [11]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 36
	}
	return p
}()

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// appendCode appends the n-character base-36 rendering of v.
func appendCode(b []byte, v uint64, n int) []byte {
	start := len(b)
	b = append(b, "0000000000"[:n]...)
	for i := start + n - 1; i >= start; i-- {
		b[i] = alphabet[v%36]
		v /= 36
	}
	return b
}

// sharedStream yields the dense profile's shared codes in order.
type sharedStream struct{ rng *rand.Rand }

func newSharedStream(seed uint64) *sharedStream {
	return &sharedStream{rng: rand.New(rand.NewPCG(seed, 77))}
}

func (s *sharedStream) next() (uint64, int) {
	n := 8 + s.rng.IntN(3)
	return s.rng.Uint64N(pow36[n]/4)*4 + 3, n
}

func denseShared(seed uint64, total int64) []uint64 {
	s := newSharedStream(seed)
	out := make([]uint64, total)
	for j := range out {
		v, n := s.next()
		out[j] = v | uint64(n)<<56
	}
	return out
}

func sharedCodes(keys []uint64) []string {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(appendCode(nil, k&(1<<56-1), int(k>>56)))
	}
	return out
}

var realSpecial = make(map[string]bool)

func init() {
	for _, c := range append(slices.Clone(ValidCodes), NearMisses...) {
		realSpecial[c] = true
	}
}

func writeFile(ctx context.Context, path string, p filePlan, prog *progress) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, 6)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(p.seed, uint64(p.file)))
	var ss *sharedStream
	var sharedLeft int64
	if p.dense {
		ss = newSharedStream(p.seed)
		for j := range p.sharedTotal {
			if inPattern(j, p.file) {
				sharedLeft++
			}
		}
	}
	var sharedIdx int64
	buf := make([]byte, 0, 1<<20)
	var pending int64
	for line := range p.lines {
		switch {
		case p.dense:
			left := p.lines - line
			if sharedLeft > 0 && rng.Int64N(left) < sharedLeft {
				for {
					v, n := ss.next()
					sharedIdx++
					if inPattern(sharedIdx-1, p.file) {
						buf = appendCode(buf, v, n)
						break
					}
				}
				sharedLeft--
			} else {
				n := 8 + rng.IntN(3)
				buf = appendCode(buf, rng.Uint64N(pow36[n]/4)*4+uint64(p.file), n)
			}
		default:
			if code, ok := p.specials[line]; ok {
				buf = append(buf, code...)
				break
			}
			for {
				start := len(buf)
				buf = appendCode(buf, rng.Uint64N(pow36[p.length]), p.length)
				if p.length != 8 || !realSpecial[string(buf[start:])] {
					break
				}
				buf = buf[:start]
			}
		}
		buf = append(buf, '\n')
		pending++
		if len(buf) > cap(buf)-16 {
			if _, err := zw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
			prog.add(pending)
			pending = 0
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if _, err := zw.Write(buf); err != nil {
		return err
	}
	prog.add(pending)
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func writeExpected(path string, codes []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for _, c := range codes {
		bw.WriteString(c)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadExpected reads an expected-valid list.
func ReadExpected(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for len(data) > 0 {
		i := slices.Index(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > 0 {
			out = append(out, string(data[:i]))
		}
		data = data[min(i+1, len(data)):]
	}
	return out, nil
}
