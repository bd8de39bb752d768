package couponset

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Verdict is the answer of Set.Lookup for one client input.
type Verdict int

const (
	// NotFound means the input has a valid length but is not a valid code.
	// It is the zero value so that an unset Verdict never reads as valid.
	NotFound Verdict = iota
	// Valid means the input is a valid coupon code.
	Valid
	// InvalidLength means the trimmed input is not 8 to 10 runes long.
	InvalidLength
)

// String returns the lower-case name of the verdict.
func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case NotFound:
		return "not found"
	case InvalidLength:
		return "invalid length"
	}
	return "unknown"
}

const (
	// MinLen is the shortest valid code in runes.
	MinLen = 8
	// MaxLen is the longest valid code in runes.
	MaxLen  = 10
	numLens = MaxLen - MinLen + 1

	// maxNormBytes bounds a normalised code: 10 runes of at most 4 bytes.
	maxNormBytes = MaxLen * utf8.UTFMax
	badDigit     = 0x80
)

// digit maps a byte to its base-36 value (0-9 then A-Z, lower case folded);
// every other byte maps to badDigit so one OR over a line detects it.
var digit = func() (t [256]byte) {
	for i := range t {
		t[i] = badDigit
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c-'A') + 10
		t[c+'a'-'A'] = byte(c-'A') + 10
	}
	return t
}()

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// packWidth is the number of bytes a packed code of each length needs:
// 36^8 < 2^42, 36^9 < 2^47, 36^10 < 2^52.
var packWidth = [numLens]int{6, 6, 7}

// pack returns the base-36 value of b and whether every byte was A-Z, a-z or
// 0-9. Pairs are combined first to halve the multiply dependency chain. It
// takes a string (a client's input) or the bytes of a line alike, without a
// copy.
func pack[T ~string | ~[]byte](b T) (uint64, bool) {
	var v uint64
	var bad byte
	i := 0
	for ; i+1 < len(b); i += 2 {
		d0, d1 := digit[b[i]], digit[b[i+1]]
		bad |= d0 | d1
		v = v*1296 + uint64(d0)*36 + uint64(d1)
	}
	if i < len(b) {
		d := digit[b[i]]
		bad |= d
		v = v*36 + uint64(d)
	}
	return v, bad&badDigit == 0
}

// unpack renders a packed code of n characters.
func unpack(v uint64, n int) string {
	var b [MaxLen]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = alphabet[v%36]
		v /= 36
	}
	return string(b[:n])
}

// tagKey combines a packed value with its length; the length in the top byte
// keeps codes of different lengths apart whatever their value.
func tagKey(v uint64, n int) uint64 { return v | uint64(n)<<56 }

func untagKey(k uint64) (uint64, int) { return k & (1<<56 - 1), int(k >> 56) }

// normKind classifies a trimmed line or input.
type normKind int

const (
	kindSkip   normKind = iota // blank or comment line
	kindLength                 // outside MinLen..MaxLen runes
	kindPacked                 // A-Z0-9 only, packed
	kindString                 // other runes, normalised text in the buffer
)

// normalize classifies s, which must already be trimmed, and writes the
// upper-cased form into buf for kindString. Comment lines are not detected
// here: a client typing "#" gets NotFound, a file line starting with '#' is
// skipped by the caller.
func normalize(s string, buf *[maxNormBytes]byte) (kind normKind, v uint64, n int) {
	if len(s) == 0 {
		return kindSkip, 0, 0
	}
	if len(s) >= MinLen && len(s) <= MaxLen {
		if v, ok := pack(s); ok {
			return kindPacked, v, len(s)
		}
	}
	runes := utf8.RuneCountInString(s)
	if runes < MinLen || runes > MaxLen {
		return kindLength, 0, runes
	}
	w := 0
	ascii := true
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			buf[w] = byte(r)
			w++
			continue
		}
		if r = unicode.ToUpper(r); r >= utf8.RuneSelf {
			ascii = false
		}
		w += utf8.EncodeRune(buf[w:], r)
	}
	if ascii && w == runes {
		if v, ok := pack(buf[:w]); ok {
			return kindPacked, v, w
		}
	}
	return kindString, 0, w
}

// NormalizeCode returns the normalised form of a client input or line and
// whether its length is acceptable. It is the reference used by tests and
// tools; Lookup does the same without allocating.
func NormalizeCode(raw string) (string, bool) {
	t := strings.ToUpper(strings.TrimSpace(raw))
	n := utf8.RuneCountInString(t)
	return t, n >= MinLen && n <= MaxLen
}

// trimSpace is strings.TrimSpace (unicode.IsSpace on both ends) without its
// per-rune function calls once a non-ASCII byte shows up, which made
// non-ASCII lookups several times slower than ASCII ones.
func trimSpace(s string) string {
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			if asciiSpace[c] == 0 {
				break
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		c := s[len(s)-1]
		if c < utf8.RuneSelf {
			if asciiSpace[c] == 0 {
				break
			}
			s = s[:len(s)-1]
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// asciiSpace marks the bytes strings.TrimSpace trims.
var asciiSpace = [256]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}
