package couponset

import (
	"context"
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"sync"
)

// packedBits is the width of the largest packed code of each length.
var packedBits = [numLens]int{42, 47, 52}

const (
	// joinBytesPerCode is the peak memory per loaded code: the run being
	// loaded, its sort scratch, and the merged values with their counts.
	joinBytesPerCode = 26
	// hashJoinMax is the largest loaded union probed through a hash table;
	// beyond it the streamed values are sorted per chunk and galloped
	// through the sorted union, which stays cache friendly.
	hashJoinMax = 1 << 16
	joinChunk   = 1 << 20
)

// hashJoinLimit is hashJoinMax; tests lower it to cover the sorted path.
var hashJoinLimit = hashJoinMax

type joinStats struct {
	rounds int
}

// joiner holds the buffers of the join, reused across rounds and lengths so
// that the heap does not grow by a fresh set of arrays each time.
type joiner struct {
	runs, scratches [][]uint64 // one per small bucket
	vals            []uint64
	cnt             []uint8
	workers         []*markWorker
}

// loadRun reads small bucket i's codes of this round into j.runs[i], sorted
// and without duplicates.
func (j *joiner) loadRun(i int, b *bucket, w *markWorker, l int, rf roundFilter) error {
	// A hash partition keeps close to count/rounds values; the slack
	// avoids a regrowth that would double the peak.
	expect := b.count/int64(rf.rounds) + b.count/int64(rf.rounds)/16 + 1024
	run := grow(j.runs[i], int(min(expect, b.count)))
	err := b.read(0, b.count, w.dst, w.raw, rf, func(c []uint64) error {
		run = append(run, c...)
		return nil
	})
	if err != nil {
		return err
	}
	j.scratches[i] = grow(j.scratches[i], len(run))[:len(run)]
	radixSort(run, j.scratches[i], packedBits[l])
	j.runs[i] = dedupe(run)
	return nil
}

// markWorker holds one streaming worker's chunk buffers.
type markWorker struct {
	dst, scratch []uint64
	raw          []byte
}

// grow returns buf with room for n values, reallocating only when needed.
func grow(buf []uint64, n int) []uint64 {
	if cap(buf) < n {
		return make([]uint64, 0, n)
	}
	return buf[:0]
}

// join returns the tagged keys of the packed codes present in at least m of
// the files; buckets[f][l] holds file f's codes of length MinLen+l. done
// is handed every bucket holding codes as soon as the join no longer needs
// it.
func join(ctx context.Context, buckets [][numLens]*bucket, m int, budget int64, workers int, done func(*bucket)) ([]uint64, joinStats, error) {
	var keys []uint64
	var st joinStats
	j := &joiner{}
	needed := false
	for l := range numLens {
		n := 0
		for _, fb := range buckets {
			if fb[l].count > 0 {
				n++
			}
		}
		needed = needed || n >= m
	}
	for range max(workers, 1) {
		if !needed {
			break // no length to join: the buffers would go unused
		}
		j.workers = append(j.workers, &markWorker{
			dst: make([]uint64, joinChunk), scratch: make([]uint64, joinChunk), raw: alignedBytes(joinChunk*8 + 2*directAlign + 8),
		})
	}
	// A length held by fewer than m files has no valid code: its buckets
	// are handed back before any other length is joined.
	var present [numLens][]*bucket
	for l := range numLens {
		for _, fb := range buckets {
			if fb[l].count > 0 {
				present[l] = append(present[l], fb[l])
			}
		}
		if len(present[l]) < m {
			for _, b := range present[l] {
				done(b)
			}
			present[l] = nil
		}
	}
	for l, present := range present {
		if present == nil {
			continue
		}
		slices.SortStableFunc(present, func(a, b *bucket) int {
			switch {
			case a.count < b.count:
				return -1
			case a.count > b.count:
				return 1
			}
			return 0
		})
		small, large := present[:len(present)-m+1], present[len(present)-m+1:]
		var smallCount int64
		for _, b := range small {
			smallCount += b.count
		}
		rounds := int((smallCount*joinBytesPerCode + budget - 1) / budget)
		rounds = max(rounds, 1)
		st.rounds = max(st.rounds, rounds)
		for r := range rounds {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
			got, err := j.round(ctx, small, large, m, l, roundFilter{rounds: rounds, round: r})
			if err != nil {
				return nil, st, err
			}
			keys = append(keys, got...)
		}
		for _, b := range present {
			done(b)
		}
	}
	return keys, st, nil
}

// roundFilter selects the codes of one join round; with one round it keeps
// everything.
type roundFilter struct{ rounds, round int }

// partition spreads codes over rounds by a hash, so a skewed code range
// cannot overload one round.
func partition(v uint64, rounds int) int {
	hi, _ := bits.Mul64(hashKey(v), uint64(rounds))
	return int(hi)
}

// round loads the small buckets (restricted to the round), counts in how
// many files each of their codes appears, and returns the tagged keys
// reaching m.
func (j *joiner) round(ctx context.Context, small, large []*bucket, m, l int, rf roundFilter) ([]uint64, error) {
	// Load and sort the small buckets in parallel, one worker each; the
	// budget already counts a run and its scratch for every small bucket.
	for len(j.runs) < len(small) {
		j.runs = append(j.runs, nil)
		j.scratches = append(j.scratches, nil)
	}
	pool := make(chan *markWorker, len(j.workers))
	for _, w := range j.workers {
		pool <- w
	}
	errs := make([]error, len(small))
	var wg sync.WaitGroup
	for i, b := range small {
		wg.Go(func() {
			w := <-pool
			defer func() { pool <- w }()
			errs[i] = j.loadRun(i, b, w, l, rf)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	j.vals, j.cnt = j.vals[:0], j.cnt[:0]
	for i := range small {
		run := j.runs[i]
		if i == 0 {
			j.vals = append(j.vals, run...)
			j.cnt = slices.Grow(j.cnt, len(run))[:len(run)]
			for k := range j.cnt {
				j.cnt[k] = 1
			}
			continue
		}
		j.vals, j.cnt = mergeCount(j.vals, j.cnt, run)
	}
	vals, cnt := j.vals, j.cnt
	for _, b := range large {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seen, err := markPresent(ctx, b, vals, rf, l, j.workers)
		if err != nil {
			return nil, err
		}
		for w, word := range seen {
			for word != 0 {
				i := w*64 + bits.TrailingZeros64(word)
				cnt[i]++
				word &= word - 1
			}
		}
	}
	var out []uint64
	for i, c := range cnt {
		if int(c) >= m {
			out = append(out, tagKey(vals[i], MinLen+l))
		}
	}
	return out, nil
}

// mergeCount merges the sorted, duplicate-free run into vals in place,
// adding one to the count of every value the run contains. It merges from
// the back so no second buffer is needed, then slides the result down.
func mergeCount(vals []uint64, cnt []uint8, run []uint64) ([]uint64, []uint8) {
	n := len(vals) + len(run)
	vals, cnt = slices.Grow(vals, len(run))[:n], slices.Grow(cnt, len(run))[:n]
	i, j, w := n-len(run)-1, len(run)-1, n-1
	for j >= 0 {
		switch {
		case i >= 0 && vals[i] > run[j]:
			vals[w], cnt[w] = vals[i], cnt[i]
			i--
		case i >= 0 && vals[i] == run[j]:
			vals[w], cnt[w] = vals[i], cnt[i]+1
			i--
			j--
		default:
			vals[w], cnt[w] = run[j], 1
			j--
		}
		w--
	}
	// Values left at [0, i] are already in place; the merged tail starts at
	// w+1 and follows them after the gap left by duplicates.
	gap := w - i
	if gap > 0 {
		copy(vals[i+1:], vals[w+1:])
		copy(cnt[i+1:], cnt[w+1:])
	}
	return vals[:n-gap], cnt[:n-gap]
}

// markPresent streams bucket b and returns a bitset over vals of the values
// it contains; repeats inside the bucket set the same bit, so a file counts
// once. The bucket is split between workers reading disjoint ranges.
func markPresent(ctx context.Context, b *bucket, vals []uint64, rf roundFilter, l int, mw []*markWorker) ([]uint64, error) {
	words := (len(vals) + 63) / 64
	if len(vals) == 0 {
		return nil, nil
	}
	var probe *probeTable
	if len(vals) <= hashJoinLimit {
		probe = newProbeTable(vals)
	}
	workers := len(mw)
	if b.count < 4*joinChunk {
		workers = 1
	}
	seens := make([][]uint64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		from := b.count * int64(w) / int64(workers)
		to := b.count * int64(w+1) / int64(workers)
		wg.Go(func() {
			seen := make([]uint64, words)
			seens[w] = seen
			scratch := mw[w].scratch
			if probe != nil {
				// No round filter here: vals holds only codes of this
				// round, so a code of another round finds nothing.
				errs[w] = b.readRaw(from, to, joinChunk, mw[w].raw, func(src []byte, cnt int64) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					probe.mark(src, cnt, b.width, seen)
					return nil
				})
				return
			}
			errs[w] = b.read(from, to, mw[w].dst, mw[w].raw, rf, func(c []uint64) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				radixSort(c, scratch, packedBits[l])
				gallopMark(c, vals, seen)
				return nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, s := range seens[1:] {
		for i, w := range s {
			seens[0][i] |= w
		}
	}
	return seens[0], nil
}

// gallopMark sets the bit of every element of vals found in the sorted chunk
// c, searching forward from the last match so a chunk costs
// O(len(c) log(len(vals)/len(c))).
func gallopMark(c, vals []uint64, seen []uint64) {
	lo := 0
	for _, v := range c {
		step := 1
		hi := lo
		for hi < len(vals) && vals[hi] < v {
			lo = hi + 1
			hi += step
			step <<= 1
		}
		hi = min(hi, len(vals))
		i, _ := slices.BinarySearch(vals[lo:hi], v)
		lo += i
		if lo >= len(vals) {
			return
		}
		if vals[lo] == v {
			seen[lo>>6] |= 1 << (lo & 63)
		}
	}
}

// probeTable maps a value to its index in a small sorted slice.
type probeTable struct {
	keys []uint64 // value+1, 0 = empty
	idx  []int32
	mask uint64
	// bloom has one bit per value of the low 16 bits, set for the values in
	// the table. When the table is tiny, as when a handful of codes are
	// checked against a hundred million, almost every value stops at this
	// one L1-resident load instead of hashing and probing.
	bloom []uint64
}

const bloomMax = 4096

func newProbeTable(vals []uint64) *probeTable {
	size := uint64(16)
	for size < uint64(len(vals))*4 {
		size <<= 1
	}
	t := &probeTable{keys: make([]uint64, size), idx: make([]int32, size), mask: size - 1}
	for i, v := range vals {
		j := hashKey(v) & t.mask
		for t.keys[j] != 0 {
			j = (j + 1) & t.mask
		}
		t.keys[j] = v + 1
		t.idx[j] = int32(i)
	}
	if len(vals) <= bloomMax {
		t.bloom = make([]uint64, 1<<16/64)
		for _, v := range vals {
			t.bloom[v>>6&(1<<10-1)] |= 1 << (v & 63)
		}
	}
	return t
}

// mark sets the bit in seen of every value of the table found among the cnt
// values of width bytes stored in src (see bucket.readRaw). Decoding and
// probing in one pass, with the bloom test inline, keeps the common miss to
// a load, a mask and one L1 lookup per value.
func (t *probeTable) mark(src []byte, cnt int64, width int, seen []uint64) {
	mask := uint64(1)<<(8*width) - 1
	w := int64(width)
	bloom := t.bloom
	for i := int64(0); i < cnt; i++ {
		v := binary.LittleEndian.Uint64(src[i*w:]) & mask
		if bloom != nil && bloom[v>>6&(1<<10-1)]&(1<<(v&63)) == 0 {
			continue
		}
		if j := t.find(v); j >= 0 {
			seen[j>>6] |= 1 << (j & 63)
		}
	}
}

func (t *probeTable) find(v uint64) int {
	if t.bloom != nil && t.bloom[v>>6&(1<<10-1)]&(1<<(v&63)) == 0 {
		return -1
	}
	j := hashKey(v) & t.mask
	for {
		k := t.keys[j]
		if k == v+1 {
			return int(t.idx[j])
		}
		if k == 0 {
			return -1
		}
		j = (j + 1) & t.mask
	}
}
