package couponset

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestParseFastPath checks the parser's packed fast paths (the vector
// kernel where the CPU has it, and the portable SWAR parser) against its slow
// path, which normalises through the reference rules, for lines of 8 to 10
// bytes with every byte value in every position.
func TestParseFastPath(t *testing.T) {
	for _, vector := range vectorModes() {
		t.Run(map[bool]string{true: "vector", false: "swar"}[vector], func(t *testing.T) {
			defer func(v bool) { haveVector = v }(haveVector)
			haveVector = vector
			testParseFastPath(t)
		})
	}
}

// vectorModes lists the parsers this CPU can run: the portable one, and the
// vector kernel when it is available.
func vectorModes() []bool {
	if haveVector {
		return []bool{false, true}
	}
	return []bool{false}
}

func testParseFastPath(t *testing.T) {
	contents := func(fp *fileParser) ([numLens][]byte, []string) {
		var bs [numLens][]byte
		for l, b := range fp.buckets {
			bs[l] = slices.Clone(b.buf[:b.n])
		}
		return bs, slices.Sorted(maps.Keys(fp.other))
	}
	newParser := func() *fileParser {
		fp := &fileParser{}
		for l := range numLens {
			fp.buckets[l] = newBucket(packWidth[l], "")
		}
		return fp
	}
	check := func(line []byte, term string) {
		t.Helper()
		fast, slow := newParser(), newParser()
		in := append(slices.Clone(line), term...)
		in = append(in, "ZZZZZZZZZZZZ"...) // room for the fast path's look-ahead
		if used := fast.parse(in); used != len(line)+len(term) {
			t.Fatalf("parse(%q) used %d bytes", in, used)
		}
		slow.slowLine(append(slices.Clone(line), term[:len(term)-1]...))
		fb, fo := contents(fast)
		sb, so := contents(slow)
		if !slices.EqualFunc(fb[:], sb[:], bytes.Equal) || !slices.Equal(fo, so) {
			t.Fatalf("line %q: fast path %v %q, slow path %v %q", line, fb, fo, sb, so)
		}
	}
	for _, n := range []int{8, 9, 10} {
		for pos := range n {
			for c := range 256 {
				if c == '\n' {
					continue
				}
				b := []byte("A0zZ9aB1Qq")[:n]
				b[pos] = byte(c)
				check(b, "\n")
				check(b, "\r\n")
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const chars = "09AZaz@[`{/:\x7f\x80\xff"
	for range 100000 {
		b := make([]byte, 8+rng.IntN(3))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		check(b, "\n")
	}
	check([]byte("ZZZZZZZZ"), "\n")
	check([]byte("zzzzzzzzzz"), "\n")
	check([]byte("00000000"), "\r\n")
}
