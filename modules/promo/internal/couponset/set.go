package couponset

import (
	"math/bits"
	"runtime"
	"slices"
)

// Set is an immutable set of valid coupon codes, safe for concurrent use.
// The zero Set is empty.
type Set struct {
	// table is an open-addressing hash table of tagged keys with linear
	// probing. A tagged key is never 0 (its length tag is at least MinLen),
	// so 0 marks an empty slot. The load stays at most 2/3, which keeps
	// misses to a few probes in one or two cache lines. A Set read from
	// the index uses the table in place in the read-only mapping of the
	// index file.
	table []uint64
	n     int
	other map[string]struct{}
}

// tableSize returns the slot count for n keys.
func tableSize(n int) int {
	if n == 0 {
		return 0
	}
	return n + n/2 + 8
}

// setBytes is the memory a Set of keys packed codes and other takes.
func setBytes(keys int, other []string) int64 {
	n := int64(tableSize(keys)) * 8
	for _, o := range other {
		n += int64(len(o)) + 48 // the string, its header and its map slot
	}
	return n
}

// newSet builds a Set from tagged keys (any order, duplicates allowed) and
// normalised non-base-36 codes.
func newSet(keys []uint64, other []string) *Set {
	s := &Set{table: make([]uint64, tableSize(len(keys)))}
	for _, k := range keys {
		s.insert(k)
	}
	if len(other) > 0 {
		s.other = make(map[string]struct{}, len(other))
		for _, o := range other {
			s.other[o] = struct{}{}
		}
	}
	return s
}

func (s *Set) insert(k uint64) {
	i := s.slot(k)
	for {
		switch s.table[i] {
		case k:
			return
		case 0:
			s.table[i] = k
			s.n++
			return
		}
		if i++; i == len(s.table) {
			i = 0
		}
	}
}

// slot maps a key to its home slot; multiply-high spreads the hash over any
// table size, so the table need not be a power of two.
func (s *Set) slot(k uint64) int {
	hi, _ := bits.Mul64(hashKey(k), uint64(len(s.table)))
	return int(hi)
}

func hashKey(k uint64) uint64 {
	k ^= k >> 29
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 32
	return k
}

func (s *Set) hasKey(k uint64) bool {
	if len(s.table) == 0 {
		return false
	}
	i := s.slot(k)
	found := false
	for {
		if t := s.table[i]; t == k {
			found = true
			break
		} else if t == 0 {
			break
		}
		if i++; i == len(s.table) {
			i = 0
		}
	}
	// A table loaded from the index lives in a mapping that is released
	// when s is collected; s must stay reachable while the table is read.
	runtime.KeepAlive(s)
	return found
}

// Lookup reports whether raw, a client input, is a valid code. Surrounding
// white space is ignored and letters are matched case-insensitively. It does
// not allocate.
func (s *Set) Lookup(raw string) Verdict {
	t := trimSpace(raw)
	if len(t) >= MinLen && len(t) <= MaxLen {
		if v, ok := pack(t); ok {
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
func (s *Set) Len() int { return s.n + len(s.other) }

// Codes returns every valid code in normalised form, sorted. It allocates and
// is meant for tests, tools and debugging.
func (s *Set) Codes() []string {
	out := make([]string, 0, s.Len())
	for _, k := range s.table {
		if k == 0 {
			continue
		}
		v, n := untagKey(k)
		out = append(out, unpack(v, n))
	}
	runtime.KeepAlive(s)
	for o := range s.other {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}
