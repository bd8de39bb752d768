package couponset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBucketSpillRoundTrip writes enough values to spill many times, with
// a buffer large enough for writes that bypass the page cache and leave a
// remainder, in the foreground and through the background writer, and reads
// them back in order, whole and in ranges.
func TestBucketSpillRoundTrip(t *testing.T) {
	for _, background := range []bool{false, true} {
		t.Run(fmt.Sprintf("background=%t", background), func(t *testing.T) {
			var w *spillWriter
			if background {
				w = newSpillWriter(2, 1) // one spare buffer: a spill often waits for it
				defer w.close()
			}
			testBucketSpillRoundTrip(t, w)
		})
	}
}

func testBucketSpillRoundTrip(t *testing.T, w *spillWriter) {
	defer func(b int) { bucketMaxBuf = b }(bucketMaxBuf)
	for _, max := range []int{64, 16 << 10, 40 << 10} {
		bucketMaxBuf = max
		for l, width := range packWidth {
			rng := rand.New(rand.NewPCG(uint64(max), uint64(l)))
			b := newBucket(width, filepath.Join(t.TempDir(), "spill"))
			b.writer = w
			want := make([]uint64, 30000+rng.IntN(1000))
			for i := range want {
				want[i] = rng.Uint64() >> (64 - packedBits[l])
				b.add(want[i])
			}
			if err := b.finish(); err != nil {
				t.Fatal(err)
			}
			if max >= 4*directAlign && b.direct == nil {
				t.Logf("max %d: spill written through the page cache", max)
			}
			if b.f == nil || b.count != int64(len(want)) {
				t.Fatalf("max %d width %d: spilled %v, count %d, want %d", max, width, b.f != nil, b.count, len(want))
			}
			for _, r := range [][2]int64{{0, b.count}, {1, 2}, {4095, 9000}, {b.count - 7, b.count}} {
				var got []uint64
				err := b.read(r[0], r[1], make([]uint64, 1000), nil, roundFilter{}, func(c []uint64) error {
					got = append(got, c...)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want[r[0]:r[1]]) {
					t.Fatalf("max %d width %d range %v: values differ", max, width, r)
				}
			}
			b.release()
		}
	}
}

// TestBackgroundSpillErrorFailsFinish checks that a write that fails in the
// background writer is reported by finish, naming the spill file.
func TestBackgroundSpillErrorFailsFinish(t *testing.T) {
	defer func(b int) { bucketMaxBuf = b }(bucketMaxBuf)
	bucketMaxBuf = 16 << 10
	w := newSpillWriter(1, 1)
	defer w.close()
	b := newBucket(packWidth[0], filepath.Join(t.TempDir(), "spill"))
	b.writer = w
	for i := range 4000 { // past the first spill
		b.add(uint64(i))
	}
	if b.direct == nil {
		t.Skip("this file system takes no direct writes, so nothing is written in the background")
	}
	b.direct.Close() // every later background write fails
	for i := range 20000 {
		b.add(uint64(i))
	}
	err := b.finish()
	if err == nil || !strings.Contains(err.Error(), "write spill file spill") {
		t.Fatalf("finish = %v, want the failed background write", err)
	}
	b.release()
}

// TestSpilledJoinAgainstReference builds from files whose buckets spill many
// times through full-size writes, with codes repeated inside a file, codes
// in only one file and one large bucket probed by a few candidates.
func TestSpilledJoinAgainstReference(t *testing.T) {
	defer func(b int) { bucketMaxBuf = b }(bucketMaxBuf)
	bucketMaxBuf = 16 << 10
	rng := rand.New(rand.NewPCG(3, 4))
	var big, small1, small2 strings.Builder
	for i := range 40000 {
		code := fmt.Sprintf("%08X", rng.Uint32())
		big.WriteString(code + "\n")
		if i%997 == 0 {
			small1.WriteString(strings.ToLower(code) + "\n")
			big.WriteString(code + "\n") // a repeat inside the file
		}
		if i%1999 == 0 {
			small2.WriteString(" " + code + "0\r\n") // length 9, only here
		}
	}
	small1.WriteString("ONLYHERE1\n")
	small2.WriteString("ONLYHERE2\nSHAREDTWO\n")
	small1.WriteString("SHAREDTWO\n")
	contents := []string{big.String(), small1.String(), small2.String()}
	files := writeFiles(t, t.TempDir(), contents...)
	set, st := mustBuild(t, Options{Files: files, TempDir: t.TempDir()})
	want := reference(contents, 2)
	if got := codes(set); !slices.Equal(got, want) {
		t.Fatalf("got %d codes, want %d\n%s", len(got), len(want), diff(got, want))
	}
	if st.SpilledBytes == 0 {
		t.Error("nothing spilled")
	}
	if _, _, err := Build(context.Background(), Options{Files: files, MinFiles: 3}); err != nil {
		t.Fatal(err)
	}
}
