package couponset

import (
	"slices"
	"strings"
)

// Set is an immutable set of valid coupon codes, safe for concurrent use.
// The zero Set is empty.
type Set struct {
	// table is an open-addressing hash table of tagged keys (never 0, since
	// the length tag is at least MinLen), so 0 marks an empty slot.
	table []uint64
	mask  uint64
	keys  []uint64 // sorted tagged keys, kept for Codes and the index
	other map[string]struct{}
}

// newSet builds a Set from tagged keys (any order, no duplicates needed) and
// normalised non-base-36 codes.
func newSet(keys []uint64, other []string) *Set {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	s := &Set{keys: keys}
	if len(keys) > 0 {
		size := uint64(4)
		for size < uint64(len(keys))*2 {
			size <<= 1
		}
		s.table = make([]uint64, size)
		s.mask = size - 1
		for _, k := range keys {
			i := hashKey(k) & s.mask
			for s.table[i] != 0 {
				i = (i + 1) & s.mask
			}
			s.table[i] = k
		}
	}
	if len(other) > 0 {
		s.other = make(map[string]struct{}, len(other))
		for _, o := range other {
			s.other[o] = struct{}{}
		}
	}
	return s
}

func hashKey(k uint64) uint64 {
	k ^= k >> 29
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 32
	return k
}

func (s *Set) hasKey(k uint64) bool {
	if s.table == nil {
		return false
	}
	i := hashKey(k) & s.mask
	for {
		e := s.table[i]
		if e == k {
			return true
		}
		if e == 0 {
			return false
		}
		i = (i + 1) & s.mask
	}
}

// Lookup reports whether raw, a client input, is a valid code. Surrounding
// white space is ignored and letters are matched case-insensitively. It does
// not allocate.
func (s *Set) Lookup(raw string) Verdict {
	t := strings.TrimSpace(raw)
	if len(t) >= MinLen && len(t) <= MaxLen {
		if v, ok := packString(t); ok {
			return s.verdict(s.hasKey(tagKey(v, len(t))))
		}
	}
	var buf [maxNormBytes]byte
	kind, v, n := normalize(t, &buf)
	switch kind {
	case kindPacked:
		return s.verdict(s.hasKey(tagKey(v, n)))
	case kindString:
		_, ok := s.other[string(buf[:n])]
		return s.verdict(ok)
	}
	return InvalidLength
}

func (s *Set) verdict(ok bool) Verdict {
	if ok {
		return Valid
	}
	return NotFound
}

// Len returns the number of valid codes.
func (s *Set) Len() int { return len(s.keys) + len(s.other) }

// Codes returns every valid code in normalised form, sorted. It allocates and
// is meant for tests, tools and debugging.
func (s *Set) Codes() []string {
	out := make([]string, 0, s.Len())
	for _, k := range s.keys {
		v, n := untagKey(k)
		out = append(out, unpack(v, n))
	}
	for o := range s.other {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}
