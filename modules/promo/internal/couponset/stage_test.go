package couponset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stageKnobs sets the staging's thresholds for one test: a small in-memory
// bucket so that large buckets overflow, small reads so that the files take
// many steps, and no evidence needed to drop (a leading file that did not
// start yet shows no code of any length), so that what is dropped does not
// depend on how the goroutines were scheduled.
func stageKnobs(t *testing.T, maxBuf int, start float64) {
	t.Helper()
	b, s, e, r := bucketMaxBuf, tailStart, dropEvidence, readBuf
	t.Cleanup(func() { bucketMaxBuf, tailStart, dropEvidence, readBuf = b, s, e, r })
	bucketMaxBuf, tailStart, dropEvidence, readBuf = maxBuf, start, 0, 4<<10
}

// codesOf writes n random base-36 codes of the given length, one a line.
func codesOf(rng *rand.Rand, n, length int) string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var sb strings.Builder
	for range n {
		for range length {
			sb.WriteByte(alpha[rng.IntN(len(alpha))])
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// realShape is the production shape: one file of 8-character codes, two of
// 9 and 10 characters, the shared 8-character codes at the end of each.
func realShape(rng *rand.Rand, lines int) []string {
	shared := []string{"BIRTHDAY\n", "HAPPYHRS\n", "OVER9000\n"}
	return []string{
		codesOf(rng, lines*9/10, 8) + strings.Join(shared, "") + "SUPER100\n",
		codesOf(rng, lines, 9) + shared[0] + shared[1] + "MOODYHRS\n",
		codesOf(rng, lines, 10) + shared[1] + shared[2],
	}
}

func TestStagedBuildIsExactAndKeepsLittle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	base := realShape(rng, 20000)
	cases := []struct {
		name     string
		contents []string
		m        int
		// zeroSpill: with the trailing files started once the leading
		// ones are done, nothing is written to disk.
		zeroSpill bool
		// readAgain is how many files may be decoded twice: a leading
		// file's bucket dropped while the other leading files showed no
		// code of its length, that turned out to be needed (unless they
		// were done before it overflowed).
		readAgain int
	}{
		{"big 8s in file 1, m 2", base, 2, true, 0},
		{"big 8s in file 3, m 2", []string{base[1], base[2], base[0]}, 2, true, 0},
		{"big 8s in file 2, m 2", []string{base[2], base[0], base[1]}, 2, true, 0},
		// One leading file: nothing tells it what to drop, so its large
		// bucket spills; the trailing files keep nothing.
		{"m 3", base, 3, false, 0},
		{"m 1", base, 1, false, 0},
		// Three leading files: the 8s of the first are dropped, then
		// needed by the others' last lines.
		{"four files, m 2", append(slices.Clone(base), codesOf(rng, 3000, 8)+"HAPPYHRS\nBIRTHDAY\n"), 2, false, 1},
		{"four files, m 3", append(slices.Clone(base), codesOf(rng, 3000, 8)+"HAPPYHRS\nBIRTHDAY\n"), 3, true, 0},
		{"four files, m 4", append(slices.Clone(base), codesOf(rng, 3000, 9)+"HAPPYHRS\n"), 4, false, 0},
	}
	for _, c := range cases {
		for _, start := range []float64{1, 0.5, 0} {
			t.Run(fmt.Sprintf("%s, trailing files start at %.1f", c.name, start), func(t *testing.T) {
				stageKnobs(t, 16<<10, start)
				files := writeFiles(t, t.TempDir(), c.contents...)
				set, st := mustBuild(t, Options{Files: files, MinFiles: c.m, Decoder: DecoderKlauspost})
				want := reference(c.contents, c.m)
				if got := codes(set); !slices.Equal(got, want) {
					t.Fatalf("got %d codes, want %d\n%s", len(got), len(want), diff(got, want))
				}
				if st.ReadAgain > c.readAgain {
					t.Errorf("%d files read again, want at most %d", st.ReadAgain, c.readAgain)
				}
				// Started early, a small trailing file may end before the
				// leading ones, and then all it kept is checked at the end.
				// A trailing file's codes of a length whose leading bucket
				// was dropped are kept instead.
				if c.m >= 2 && c.readAgain == 0 && st.StreamedCodes == 0 && start == 1 {
					t.Error("no code was checked as it was parsed")
				}
				if c.zeroSpill && start == 1 && st.SpilledBytes != 0 {
					t.Errorf("%d bytes spilled", st.SpilledBytes)
				}
			})
		}
	}
}

func TestDroppedCodesNeededAfterAllAreReadAgain(t *testing.T) {
	stageKnobs(t, 16<<10, 1)
	rng := rand.New(rand.NewPCG(13, 14))
	nines := codesOf(rng, 20000, 9)
	// The first file's 9-character codes are dropped while the second
	// shows none; then the second ends with some of them, and the third
	// (trailing) has one more.
	second := codesOf(rng, 60000, 8) + nines[:10*50] + "SHAREDTWO\n"
	contents := []string{nines + "SHAREDTWO\n", second, codesOf(rng, 2000, 10) + nines[10*100:10*101] + "THIRDONLY\n"}
	files := writeFiles(t, t.TempDir(), contents...)
	for _, m := range []int{2, 3} {
		set, st := mustBuild(t, Options{Files: files, MinFiles: m, Decoder: DecoderKlauspost})
		want := reference(contents, m)
		if got := codes(set); !slices.Equal(got, want) {
			t.Fatalf("m %d: got %d codes, want %d\n%s", m, len(got), len(want), diff(got, want))
		}
		if m == 2 && (len(want) != 52 || st.ReadAgain != 1) {
			t.Errorf("m 2: %d valid codes, %d files read again; want 52 and 1", len(want), st.ReadAgain)
		}
	}
}

func TestTrailingFileThatEndsFirst(t *testing.T) {
	// The trailing file starts at once and ends long before the leading
	// ones: what it kept, some of it spilled, is checked at the end.
	stageKnobs(t, 4<<10, 0)
	rng := rand.New(rand.NewPCG(15, 16))
	small := codesOf(rng, 3000, 8)
	contents := []string{codesOf(rng, 30000, 8) + small[:9*40], codesOf(rng, 30000, 8) + small[9*20:9*60], small}
	files := writeFiles(t, t.TempDir(), contents...)
	for _, m := range []int{2, 3} {
		set, st := mustBuild(t, Options{Files: files, MinFiles: m, Decoder: DecoderKlauspost})
		want := reference(contents, m)
		if got := codes(set); !slices.Equal(got, want) {
			t.Fatalf("m %d: got %d codes, want %d\n%s", m, len(got), len(want), diff(got, want))
		}
		if st.SpilledBytes == 0 {
			t.Errorf("m %d: nothing spilled with a 4 KiB bucket", m)
		}
	}
}

// TestTrailingSpillIsReadBackOnlyWhereLeadingCodesHash has the trailing file
// start at once and end before the leading files' codes are known, so that
// all it keeps spills; the check must still find a shared code among its
// first lines, and read back only the spill files that a leading code
// hashes to: a fraction of what was spilled.
func TestTrailingSpillIsReadBackOnlyWhereLeadingCodesHash(t *testing.T) {
	stageKnobs(t, 4<<10, 0)
	defer func(p int) { partMaxBuf = p }(partMaxBuf)
	partMaxBuf = 1 << 10
	rng := rand.New(rand.NewPCG(17, 18))
	contents := []string{
		codesOf(rng, 40000, 9) + "EARLYONE\nLATERONE\nNOTINTHR\n",
		codesOf(rng, 40000, 10) + "LATERONE\n",
		"EARLYONE\n" + codesOf(rng, 20000, 8) + "LATERONE\n",
	}
	files := writeFiles(t, t.TempDir(), contents...)
	tailDone := make(chan struct{})
	beforeUnion = func() { <-tailDone }
	t.Cleanup(func() { beforeUnion = nil })
	set, st := mustBuild(t, Options{Files: files, Decoder: DecoderKlauspost, OnProgress: func(p Progress) {
		if p.File == files[2] && p.Done {
			close(tailDone)
		}
	}})
	want := reference(contents, 2)
	if got := codes(set); !slices.Equal(got, want) || !slices.Equal(want, []string{"EARLYONE", "LATERONE"}) {
		t.Fatalf("got %q, want %q (EARLYONE, LATERONE)", got, want)
	}
	if st.SpilledBytes < 20000*6/2 {
		t.Fatalf("%d bytes spilled: the trailing file's codes did not spill", st.SpilledBytes)
	}
	// The three leading codes of 8 characters hash to at most 3 of the
	// spillParts files, which hold about 3/32 of what was spilled.
	if st.CheckedBytes == 0 || st.CheckedBytes*4 > st.SpilledBytes {
		t.Errorf("%d of %d spilled bytes read back, want some and at most a quarter", st.CheckedBytes, st.SpilledBytes)
	}
}

// TestAFileDecodingAloneReadsAhead checks that a file decoding while a
// processor is free for it (here a single file, with two workers) goes on
// reading while one of its reads is parsed, and that with one worker it
// reads and parses in turn. Progress is reported after every parse, while
// the parse still holds its token.
func TestAFileDecodingAloneReadsAhead(t *testing.T) {
	defer func(r int, d time.Duration) { readBuf, progressEvery, afterRead = r, d, nil }(readBuf, progressEvery)
	readBuf, progressEvery = 4<<10, 0
	rng := rand.New(rand.NewPCG(19, 20))
	content := "HAPPYHRS\n" + codesOf(rng, 30000, 8) + "happyhrs\n" + strings.Repeat(" ", 3*readBuf) + "LONGLINE\n"
	files := writeFiles(t, t.TempDir(), content)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			var reads atomic.Int64
			afterRead = func() { reads.Add(1) }
			parsed, ahead := int64(0), false
			set, _ := mustBuild(t, Options{Files: files, MinFiles: 1, Workers: workers, Decoder: DecoderKlauspost, OnProgress: func(p Progress) {
				if p.Done {
					return
				}
				parsed++
				if workers == 1 {
					if r := reads.Load(); r != parsed {
						t.Errorf("with one worker, %d reads made while %d were parsed", r, parsed)
					}
					return
				}
				if parsed != 3 {
					return
				}
				// This parse holds its token; the reads must go on.
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					if reads.Load() > parsed {
						ahead = true
						return
					}
				}
			}})
			if got, want := codes(set), reference([]string{content}, 1); !slices.Equal(got, want) {
				t.Fatalf("codes = %d of them, want %d", len(got), len(want))
			}
			if workers == 2 && !ahead {
				t.Errorf("with two workers, a file decoding alone made no read while one was parsed")
			}
		})
	}
}
