package couponset

import (
	"bytes"
	"unsafe"
)

// fileParser turns the decompressed lines of one file into packed values in
// per-length buckets and a set of non-base-36 codes.
type fileParser struct {
	buckets [numLens]*bucket
	other   map[string]struct{}
	lines   int64
}

// parse consumes every complete line of p and returns how many bytes it
// used; the caller keeps the rest for the next call.
func (fp *fileParser) parse(p []byte) int {
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
				v, ok := pack8(rest[:8])
				for _, c := range rest[8:n] {
					d := digit[c]
					ok = ok && d != badDigit
					v = v*36 + uint64(d)
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
