package couponset

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestVectorAndPortableParsersAgree parses random text, mostly codes with
// every kind of line between them, with the vector kernel and with the
// portable parser, in buffers of random sizes, and wants the same buckets,
// other codes, line count and bytes used.
func TestVectorAndPortableParsersAgree(t *testing.T) {
	if !haveVector {
		t.Skip("the CPU has no vector kernel")
	}
	defer func(v bool) { haveVector = v }(haveVector)
	rng := rand.New(rand.NewPCG(7, 8))
	const code = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const other = " #\r\t-_\x80\xc3\xa4"
	var sb strings.Builder
	for range 200000 {
		n := 8 + rng.IntN(3)
		if rng.IntN(8) == 0 {
			n = rng.IntN(15)
		}
		for range n {
			if rng.IntN(40) == 0 {
				sb.WriteByte(other[rng.IntN(len(other))])
			} else {
				sb.WriteByte(code[rng.IntN(len(code))])
			}
		}
		if rng.IntN(4) == 0 {
			sb.WriteByte('\r')
		}
		sb.WriteByte('\n')
	}
	in := []byte(sb.String())
	parseAll := func(vector bool) (*fileParser, int) {
		haveVector = vector
		fp := &fileParser{}
		for l := range numLens {
			fp.buckets[l] = newBucket(packWidth[l], "")
		}
		defer func(m int) { bucketMaxBuf = m }(bucketMaxBuf)
		bucketMaxBuf = 64 << 20
		r := rand.New(rand.NewPCG(9, 10))
		used, off := 0, 0
		for off < len(in) {
			end := min(off+1+r.IntN(4096), len(in))
			k := fp.parse(in[used:end])
			used += k
			off = end
		}
		fp.finish(in[used:])
		return fp, used
	}
	v, vUsed := parseAll(true)
	p, pUsed := parseAll(false)
	if v.lines != p.lines || vUsed != pUsed {
		t.Fatalf("vector: %d lines, %d bytes used; portable: %d lines, %d bytes", v.lines, vUsed, p.lines, pUsed)
	}
	for l := range numLens {
		if !bytes.Equal(v.buckets[l].buf[:v.buckets[l].n], p.buckets[l].buf[:p.buckets[l].n]) {
			t.Errorf("length %d: the buckets differ", MinLen+l)
		}
	}
	if !maps.Equal(v.other, p.other) {
		t.Errorf("other codes differ: %d and %d", len(v.other), len(p.other))
	}
}
