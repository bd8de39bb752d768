package couponset

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"minikart/modules/promo/internal/couponset/internal/vecparse"
)

// fileParser turns the decompressed lines of one file into packed values in
// per-length buckets and a set of non-base-36 codes.
type fileParser struct {
	buckets [numLens]*bucket
	other   map[string]struct{}
	lines   int64
}

// haveVector selects the vector kernel where the CPU has it; tests clear it
// to reach the portable parser.
var haveVector = vecparse.Available

// parse consumes every complete line of p and returns how many bytes it
// used; the caller keeps the rest for the next call.
func (fp *fileParser) parse(p []byte) int {
	if haveVector && len(p) >= 16 {
		return fp.parseVector(p)
	}
	return fp.parseSWAR(p)
}

// The kernel's cursors have one slot per code length.
var (
	_ [vecparse.Lens - numLens]struct{}
	_ [numLens - vecparse.Lens]struct{}
)

func loadCursors(c *vecparse.Cursors, bs *[numLens]*bucket) {
	for l, b := range bs {
		c.Ptr[l], c.N[l], c.Lim[l], c.Width[l] = unsafe.Pointer(unsafe.SliceData(b.buf)), b.n, b.limit, b.width
	}
}

func storeCursors(c *vecparse.Cursors, bs *[numLens]*bucket) {
	for l, b := range bs {
		b.n = c.N[l]
	}
}

// parseVector runs the vector kernel over p, handing it each line it does
// not take and each bucket it fills, and finishes the last bytes with
// parseSWAR.
func (fp *fileParser) parseVector(p []byte) int {
	base := unsafe.Pointer(unsafe.SliceData(p))
	last := len(p) - 16
	pos := 0
	var cur vecparse.Cursors
	loadCursors(&cur, &fp.buckets)
	for pos <= last {
		next, lines, stop := vecparse.Parse(base, pos, last, &cur)
		fp.lines += int64(lines)
		pos = next
		if stop == vecparse.StopEnd {
			break
		}
		storeCursors(&cur, &fp.buckets)
		if stop == vecparse.StopFull {
			for _, b := range fp.buckets {
				if b.n > b.limit {
					b.grow()
				}
			}
		} else {
			i := bytes.IndexByte(p[pos:], '\n')
			if i < 0 {
				break
			}
			fp.lines++
			fp.slowLine(p[pos : pos+i])
			pos += i + 1
		}
		loadCursors(&cur, &fp.buckets)
	}
	storeCursors(&cur, &fp.buckets)
	return pos + fp.parseSWAR(p[pos:])
}

// parseSWAR is the portable parser: it consumes every complete line of p,
// eight bytes at a time, and returns how many bytes it used.
func (fp *fileParser) parseSWAR(p []byte) int {
	pos := 0
	lines := fp.lines
	for {
		rest := p[pos:]
		// Fast path: 8-10 base-36 bytes followed by "\n" or "\r\n". Every
		// byte before the terminator is a digit, so there is no earlier
		// newline and the line is exactly rest[:n].
		if len(rest) >= MaxLen+2 {
			n := 0
			switch {
			case rest[8] == '\n' || rest[8] == '\r':
				n = 8
			case rest[9] == '\n' || rest[9] == '\r':
				n = 9
			case rest[10] == '\n' || rest[10] == '\r':
				n = 10
			}
			if n > 0 {
				// The first 8 bytes are packed all at once (SWAR): fold
				// lower case, check every byte is 0-9 or A-Z, turn the
				// bytes into digits and combine them pairwise in base 36,
				// one load instead of sixteen dependent ones. It is
				// written out here because the compiler does not inline
				// it as a function, and the call cost a tenth of parsing.
				x := binary.LittleEndian.Uint64(rest)
				// Bytes from 0x40 up lose bit 0x20: 'a'-'z' become 'A'-'Z'.
				fold := x &^ ((x & (highs >> 1)) >> 1)
				letters := inRange(fold, 'A', 'Z')
				ok := x&highs == 0 && inRange(fold, '0', '9')|letters == highs
				d := fold - ones*'0' - (letters>>7)*7
				// The first character is the lowest byte and the most
				// significant digit.
				p := (d&0x00ff00ff00ff00ff)*36 + (d>>8)&0x00ff00ff00ff00ff
				q := (p&0x0000ffff0000ffff)*1296 + (p>>16)&0x0000ffff0000ffff
				v := (q&0xffffffff)*1679616 + q>>32
				switch n {
				case 9:
					d8 := digit[rest[8]]
					ok = ok && d8 != badDigit
					v = v*36 + uint64(d8)
				case 10:
					d8, d9 := digit[rest[8]], digit[rest[9]]
					ok = ok && (d8|d9)&badDigit == 0
					v = v*1296 + uint64(d8)*36 + uint64(d9)
				}
				end := n + 1
				if rest[n] == '\r' {
					ok = ok && rest[n+1] == '\n'
					end++
				}
				if ok {
					lines++
					fp.buckets[n-MinLen].add(v)
					pos += end
					continue
				}
			}
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		lines++
		fp.slowLine(rest[:i])
		pos += i + 1
	}
	fp.lines = lines
	return pos
}

// feed parses the complete lines of carry followed by p, and returns what is
// left of them (the start of a line that goes on in the next read), in
// carry's storage. A line longer than a read is carried whole, not cut,
// since a long run of spaces may still trim to a code.
func (fp *fileParser) feed(carry, p []byte) []byte {
	if len(carry) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return append(carry, p...)
		}
		carry = append(carry, p[:i+1]...)
		fp.parse(carry) // one whole line
		carry, p = carry[:0], p[i+1:]
	}
	used := fp.parse(p)
	return append(carry, p[used:]...)
}

// finish handles a last line without a trailing newline.
func (fp *fileParser) finish(rest []byte) {
	if len(rest) > 0 {
		fp.lines++
		fp.slowLine(rest)
	}
}

// slowLine handles any line the fast path did not take: white space, other
// lengths, comments, lower case, non-ASCII.
func (fp *fileParser) slowLine(line []byte) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] == '#' {
		return
	}
	var buf [maxNormBytes]byte
	// The string does not outlive this call; normalize copies what it keeps.
	s := unsafe.String(unsafe.SliceData(t), len(t))
	switch kind, v, n := normalize(s, &buf); kind {
	case kindPacked:
		fp.buckets[n-MinLen].add(v)
	case kindString:
		if fp.other == nil {
			fp.other = make(map[string]struct{})
		}
		fp.other[string(buf[:n])] = struct{}{}
	}
}
