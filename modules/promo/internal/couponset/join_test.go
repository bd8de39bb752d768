package couponset

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMergeCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		ref := map[uint64]uint8{}
		var vals []uint64
		var cnt []uint8
		for range 1 + rng.IntN(4) {
			var run []uint64
			for range rng.IntN(40) {
				run = append(run, rng.Uint64N(60))
			}
			slices.Sort(run)
			run = slices.Compact(run)
			for _, v := range run {
				ref[v]++
			}
			vals, cnt = mergeCount(vals, cnt, run)
		}
		if !slices.IsSorted(vals) || len(vals) != len(ref) {
			t.Fatalf("merged %v, want %d distinct values", vals, len(ref))
		}
		for i, v := range vals {
			if cnt[i] != ref[v] {
				t.Fatalf("count of %d = %d, want %d", v, cnt[i], ref[v])
			}
		}
	}
}

func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 255, 256, 1000, 100000} {
		for _, bits := range []int{42, 47, 52} {
			a := make([]uint64, n)
			for i := range a {
				a[i] = rng.Uint64() >> (64 - bits)
			}
			want := slices.Clone(a)
			slices.Sort(want)
			radixSort(a, make([]uint64, n), bits)
			if !slices.Equal(a, want) {
				t.Fatalf("n %d bits %d: not sorted", n, bits)
			}
		}
	}
}

func TestGallopMark(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		vals := make([]uint64, rng.IntN(300))
		for i := range vals {
			vals[i] = rng.Uint64N(1000)
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		c := make([]uint64, rng.IntN(300))
		for i := range c {
			c[i] = rng.Uint64N(1000)
		}
		slices.Sort(c)
		seen := make([]uint64, (len(vals)+63)/64)
		gallopMark(c, vals, seen)
		for i, v := range vals {
			got := seen[i>>6]&(1<<(i&63)) != 0
			if got != slices.Contains(c, v) {
				t.Fatalf("value %d: marked %t", v, got)
			}
		}
	}
}

// TestJoinHandsBackEveryBucketOnce checks that the join gives back each
// bucket holding codes exactly once, those of a length too few files hold
// before it joins any other length, and still finds the codes shared.
func TestJoinHandsBackEveryBucketOnce(t *testing.T) {
	// Three files: length 8 in all of them, length 9 in one only, length 10
	// in two; the shared codes are 1 (length 8) and 7 (length 10).
	in := [3][numLens][]uint64{
		{{1, 2}, {5}, {7}},
		{{1, 3}, nil, {7, 8}},
		{{4}, nil, nil},
	}
	buckets := make([][numLens]*bucket, len(in))
	for f := range in {
		for l := range numLens {
			b := newBucket(packWidth[l], "unused")
			for _, v := range in[f][l] {
				b.add(v)
			}
			if err := b.finish(); err != nil {
				t.Fatal(err)
			}
			buckets[f][l] = b
		}
	}
	var order []*bucket
	keys, _, err := join(t.Context(), buckets, 2, DefaultMemoryBudget, 2, func(b *bucket) { order = append(order, b) })
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{tagKey(1, MinLen), tagKey(7, MinLen+2)}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if len(order) == 0 || order[0] != buckets[0][1] {
		t.Fatalf("the only bucket of length 9 was not handed back first")
	}
	seen := map[*bucket]int{}
	for _, b := range order {
		seen[b]++
	}
	for f := range in {
		for l := range numLens {
			if want := min(len(in[f][l]), 1); seen[buckets[f][l]] != want {
				t.Errorf("file %d length %d handed back %d times, want %d", f, MinLen+l, seen[buckets[f][l]], want)
			}
		}
	}
}
