package couponset

// radixSort sorts a in place using scratch (at least len(a) long) with an
// LSD radix sort on 13-bit digits (four passes for every code length; the
// 64 KiB of counters stay in L2); bits is the width of the largest value.
// On the tens of millions of codes a join sorts it is several times faster
// than a comparison sort.
func radixSort(a, scratch []uint64, bits int) {
	const digitBits = 13
	const buckets = 1 << digitBits
	if len(a) < 256 {
		insertionSort(a)
		return
	}
	src, dst := a, scratch[:len(a)]
	var count [buckets]int
	for shift := 0; shift < bits; shift += digitBits {
		clear(count[:])
		for _, v := range src {
			count[(v>>shift)&(buckets-1)]++
		}
		if count[(src[0]>>shift)&(buckets-1)] == len(src) {
			continue // every value has the same digit: nothing to move
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range src {
			d := (v >> shift) & (buckets - 1)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

func insertionSort(a []uint64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && a[j-1] > v; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// dedupe removes adjacent duplicates from a sorted slice.
func dedupe(a []uint64) []uint64 {
	if len(a) == 0 {
		return a
	}
	w := 1
	for _, v := range a[1:] {
		if v != a[w-1] {
			a[w] = v
			w++
		}
	}
	return a[:w]
}
