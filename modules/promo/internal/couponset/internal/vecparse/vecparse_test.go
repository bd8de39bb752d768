package vecparse

import (
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"
)

// run parses in with one 64-byte buffer per length and returns what Parse
// returned and the values it stored per length.
func run(t *testing.T, in string, lim int) (pos, lines, stop int, vals [Lens][]uint64) {
	t.Helper()
	if !Available {
		t.Skip("the CPU has no AVX; the portable parser is tested in package couponset")
	}
	var bufs [Lens][]byte
	var cur Cursors
	for l := range Lens {
		bufs[l] = make([]byte, 64+8)
		cur.Ptr[l], cur.Lim[l], cur.Width[l] = unsafe.Pointer(&bufs[l][0]), lim, 8
	}
	p := []byte(in)
	pos, lines, stop = Parse(unsafe.Pointer(&p[0]), 0, len(p)-16, &cur)
	for l := range Lens {
		for i := 0; i < cur.N[l]; i += 8 {
			vals[l] = append(vals[l], binary.LittleEndian.Uint64(bufs[l][i:]))
		}
	}
	return pos, lines, stop, vals
}

// base36 is the reference packing: digits 0-9 then letters, either case.
func base36(s string) uint64 {
	var v uint64
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v*36 + uint64(c-'0')
		case c >= 'a' && c <= 'z':
			v = v*36 + uint64(c-'a'+10)
		default:
			v = v*36 + uint64(c-'A'+10)
		}
	}
	return v
}

func TestParsePacksCodesAndStops(t *testing.T) {
	in := "ZZZZZZZZ\nover9000\r\nA1B2C3D4E5\nBAD LINE\n" + "PADDINGPADDINGPADDING"
	pos, lines, stop, vals := run(t, in, 64)
	if stop != StopSlow || lines != 3 || in[pos:pos+8] != "BAD LINE" {
		t.Fatalf("stop %d after %d lines at %q, want StopSlow after 3 at \"BAD LINE\"", stop, lines, in[pos:])
	}
	want := [Lens][]uint64{{base36("ZZZZZZZZ"), base36("OVER9000")}, nil, {base36("A1B2C3D4E5")}}
	for l := range Lens {
		if len(vals[l]) != len(want[l]) || (len(want[l]) > 0 && vals[l][0] != want[l][0]) ||
			(len(want[l]) > 1 && vals[l][1] != want[l][1]) {
			t.Errorf("length %d: values %v, want %v", 8+l, vals[l], want[l])
		}
	}
}

func TestParseStopsWhenABucketPassesItsLimit(t *testing.T) {
	in := "AAAAAAAAA\nBBBBBBBBB\nCCCCCCCCC\n" + "PADDINGPADDINGPADDING"
	_, lines, stop, vals := run(t, in, 8) // past 8 bytes after the second value
	if stop != StopFull || lines != 2 || len(vals[1]) != 2 {
		t.Fatalf("stop %d after %d lines (%v), want StopFull after 2", stop, lines, vals)
	}
}

func TestParseEndsBeforeTheLast16Bytes(t *testing.T) {
	in := "AAAAAAAA\nBBBBBBBB\n" // 18 bytes: only the first line has 16 readable
	pos, lines, stop, _ := run(t, in, 64)
	if stop != StopEnd || lines != 1 || pos != 9 {
		t.Fatalf("stop %d after %d lines at %d, want StopEnd after 1 at 9", stop, lines, pos)
	}
}

// TestParseReadsLinesAcrossItsNewlineWindows parses runs of codes of every
// mix of lengths and line ends, so that lines straddle the 64-byte windows
// whose newlines Parse finds at once, end on a window's last byte, and fall
// near the end where only 16 bytes are readable; every value must be the
// code's, in order, and a line that is not a code must stop it there.
func TestParseReadsLinesAcrossItsNewlineWindows(t *testing.T) {
	codes := []string{"ABCDEFGH", "A1B2C3D4E", "ZZZZZZZZZZ", "0000000000", "over9000", "Q9Q9Q9Q9Q"}
	for start := range 24 {
		for _, crlf := range []bool{false, true} {
			var in string
			var want [Lens][]uint64
			for i := range 40 {
				c := codes[(start+i*(start+1))%len(codes)]
				want[len(c)-8] = append(want[len(c)-8], base36(c))
				in += c
				if crlf && i%3 == start%3 {
					in += "\r"
				}
				in += "\n"
			}
			bad := len(in)
			in += "NOT A CODE\n" + "PADDINGPADDINGPADDING"
			var bufs [Lens][]byte
			var cur Cursors
			for l := range Lens {
				bufs[l] = make([]byte, 8*64+8)
				cur.Ptr[l], cur.Lim[l], cur.Width[l] = unsafe.Pointer(&bufs[l][0]), 8*64, 8
			}
			p := []byte(in)
			pos, lines, stop := Parse(unsafe.Pointer(&p[0]), 0, len(p)-16, &cur)
			if stop != StopSlow || pos != bad || lines != 40 {
				t.Fatalf("start %d crlf %v: stop %d at %d after %d lines, want StopSlow at %d after 40", start, crlf, stop, pos, lines, bad)
			}
			for l := range Lens {
				for k, w := range want[l] {
					if got := binary.LittleEndian.Uint64(bufs[l][8*k:]); got != w {
						t.Fatalf("start %d crlf %v: length %d value %d is %d, want %d", start, crlf, 8+l, k, got, w)
					}
				}
				if cur.N[l] != 8*len(want[l]) {
					t.Fatalf("start %d crlf %v: length %d holds %d bytes, want %d", start, crlf, 8+l, cur.N[l], 8*len(want[l]))
				}
			}
			// The same text cut short: Parse must stop where 16 bytes are
			// no longer readable, having packed every line before.
			for end := 17; end < bad; end += 7 {
				for l := range Lens {
					cur.N[l] = 0
				}
				q := []byte(in[:end])
				pos, lines, stop := Parse(unsafe.Pointer(&q[0]), 0, len(q)-16, &cur)
				last := len(q) - 16
				if stop != StopEnd || pos <= last || pos > last+12 || lines != strings.Count(in[:pos], "\n") {
					t.Fatalf("start %d crlf %v end %d: stop %d at %d after %d lines", start, crlf, end, stop, pos, lines)
				}
			}
		}
	}
}
