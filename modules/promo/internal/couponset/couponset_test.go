package couponset

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	a := strings.Join([]string{
		"# header comment",
		"",
		"TWICEONE",     // twice in a only: not valid
		"TWICEONE",     //
		"xbirthdayx",   // substring of nothing in b
		"OVER9000",     // b has OVER900000: padding must not collide
		"00000000",     // b has 000000000
		"birthday",     // case
		"  GNULINUX\t", // white space
		"FIFTYOFF\r",   // CRLF
		"#COMMENTS",    // comment in both files
		"SEVENCH",      // 7 characters
		"ELEVENCHARS",  // 11 characters
		"äpfelsaft",    // non-ASCII, lower case
		"CAFÉCAFÉ",     // 8 runes, 10 bytes
		"CAFÉCAFÉCAFÉ", // 12 runes: too long
		"ABC-DEF-GH",   // not base-36
		"ABCD EFGH",    // inner space is part of the code
		"bırthday",     // dotless i upper-cases to ASCII I
		"ONLYINA1",     // one file only
		"1234567890",   // 10 digits
		"LASTLINE\r\n", // CRLF before the final line
		"NOTRAILN",     // last line, no newline
	}, "\n")
	b := strings.Join([]string{
		"OVER900000",
		"000000000",
		"BIRTHDAY",
		"GNULINUX",
		"FIFTYOFF",
		"#COMMENTS",
		"SEVENCH",
		"ELEVENCHARS",
		"ÄPFELSAFT",
		"cafécafé",
		"CAFÉCAFÉCAFÉ",
		"abc-def-gh",
		"abcd efgh",
		"1234567890",
		"\tNOTRAILN  ",
		"TWICEONE1",
		"LASTLINE",
		"",
	}, "\r\n")
	want := []string{"1234567890", "ABC-DEF-GH", "ABCD EFGH", "BIRTHDAY", "CAFÉCAFÉ", "FIFTYOFF", "GNULINUX", "LASTLINE", "NOTRAILN", "ÄPFELSAFT"}
	if ref := reference([]string{a, b}, 2); !slices.Equal(ref, want) {
		t.Fatalf("reference disagrees with the test's expectation:\n got %q\nwant %q", ref, want)
	}
	dir := t.TempDir()
	files := writeFiles(t, dir, a, b)
	for _, dec := range allDecoders(t) {
		t.Run(dec, func(t *testing.T) {
			set, st := mustBuild(t, Options{Files: files, Decoder: dec})
			if got := codes(set); !slices.Equal(got, want) {
				t.Fatalf("codes:\n got %q\nwant %q", got, want)
			}
			if st.Decoder != dec || st.Codes != len(want) || st.Lines == 0 {
				t.Errorf("stats = %+v", st)
			}
			verdicts := map[string]Verdict{
				"BIRTHDAY":       Valid,
				" birthday ":     Valid,
				"BiRtHdAy\n":     Valid,
				"bırthday":       Valid,
				"TWICEONE":       NotFound,
				"ONLYINA1":       NotFound,
				"OVER9000":       NotFound,
				"OVER900000":     NotFound,
				"00000000":       NotFound,
				"000000000":      NotFound,
				"0000000000":     NotFound,
				"#COMMENTS":      NotFound,
				"IRTHDAY":        InvalidLength,
				"SEVENCH":        InvalidLength,
				"ELEVENCHARS":    InvalidLength,
				"":               InvalidLength,
				"   ":            InvalidLength,
				"äpfelsaft":      Valid,
				" ÄPFELSAFT ":    Valid,
				"cafécafé":       Valid,
				"CAFÉCAFÉCAFÉ":   InvalidLength,
				"abc-def-gh":     Valid,
				"abc-def-gx":     NotFound,
				"abcd efgh":      Valid,
				"1234567890":     Valid,
				"12345678901":    InvalidLength,
				"NOTRAILN":       Valid,
				"lastline\r\n":   Valid,
				"xbirthdayx":     NotFound,
				"\xff\xfeABCDEF": NotFound,
			}
			for in, want := range verdicts {
				if got := set.Lookup(in); got != want {
					t.Errorf("Lookup(%q) = %v, want %v", in, got, want)
				}
			}
		})
	}
}

func TestMinFiles(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "AAAAAAAA\nBBBBBBBB\nCCCCCCCC\n", "AAAAAAAA\nBBBBBBBB\n", "AAAAAAAA\nCCCCCCCCC\n")
	for m, want := range map[int][]string{1: {"AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "CCCCCCCCC"}, 2: {"AAAAAAAA", "BBBBBBBB"}, 3: {"AAAAAAAA"}} {
		set, _ := mustBuild(t, Options{Files: files, MinFiles: m})
		if got := codes(set); !slices.Equal(got, want) {
			t.Errorf("min files %d: got %q, want %q", m, got, want)
		}
	}
	if _, _, err := Build(context.Background(), Options{Files: files, MinFiles: 4}); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("min files 4 of 3: err = %v", err)
	}
	if _, _, err := Build(context.Background(), Options{Files: []string{files[0], files[0]}}); err == nil || !strings.Contains(err.Error(), "same file") {
		t.Errorf("duplicate file: err = %v", err)
	}
	if _, _, err := Build(context.Background(), Options{}); err == nil {
		t.Error("no files: want an error")
	}
}

// TestRandomAgainstReference compares the engine with the obvious
// implementation on random files full of collisions, decorations and every
// join path: hash probe and sorted gallop, one round and many, in memory and
// spilled.
func TestRandomAgainstReference(t *testing.T) {
	defer func(h, b int) { hashJoinLimit, bucketMaxBuf = h, b }(hashJoinLimit, bucketMaxBuf)
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 12 {
		nFiles := 2 + rng.IntN(4)
		pool := make([]string, 300)
		for i := range pool {
			pool[i] = randomCode(rng)
		}
		contents := make([]string, nFiles)
		for f := range contents {
			var sb strings.Builder
			for range 200 + rng.IntN(3000) {
				sb.WriteString(decorate(rng, pool[rng.IntN(len(pool))]))
				if rng.IntN(10) == 0 {
					sb.WriteString("\r")
				}
				sb.WriteString("\n")
			}
			if rng.IntN(2) == 0 {
				sb.WriteString(pool[rng.IntN(len(pool))])
			}
			contents[f] = sb.String()
		}
		m := 1 + rng.IntN(nFiles)
		hashJoinLimit = []int{0, hashJoinMax}[iter%2]
		bucketMaxBuf = []int{64, 1 << 20}[iter/2%2]
		budget := []int64{0, 512}[iter/4%2]
		dir := t.TempDir()
		files := writeFiles(t, dir, contents...)
		set, st := mustBuild(t, Options{Files: files, MinFiles: m, MemoryBudget: budget, Decoder: DecoderKlauspost})
		want := reference(contents, m)
		if got := codes(set); !slices.Equal(got, want) {
			t.Fatalf("iter %d (files %d, m %d, hash %d, spill %d, budget %d): got %d codes, want %d\n%s",
				iter, nFiles, m, hashJoinLimit, bucketMaxBuf, budget, len(got), len(want), diff(got, want))
		}
		if budget == 512 && len(want) > 0 && st.JoinRounds < 2 {
			t.Errorf("iter %d: tiny budget ran %d join rounds", iter, st.JoinRounds)
		}
		if bucketMaxBuf == 64 && st.SpilledBytes == 0 {
			t.Errorf("iter %d: nothing spilled with a 64-byte buffer", iter)
		}
	}
}

func randomCode(rng *rand.Rand) string {
	const alpha = "AB0"
	n := 7 + rng.IntN(5)
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[rng.IntN(len(alpha))]
	}
	switch rng.IntN(20) {
	case 0:
		return "#" + string(b[1:])
	case 1:
		return string(b[:3]) + "é" + string(b[4:])
	case 2:
		return string(b[:3]) + "-" + string(b[4:])
	}
	return string(b)
}

func decorate(rng *rand.Rand, c string) string {
	switch rng.IntN(6) {
	case 0:
		return strings.ToLower(c)
	case 1:
		return "  " + c + "\t"
	case 2:
		return ""
	}
	return c
}

func diff(got, want []string) string {
	var sb strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&sb, "missing %q\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&sb, "extra %q\n", g)
		}
	}
	return sb.String()
}

func TestLookupAllocs(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "BIRTHDAY\nÄPFELSAFT\nABC-DEF-GH\n", "BIRTHDAY\näpfelsaft\nabc-def-gh\n")
	set, _ := mustBuild(t, Options{Files: files})
	for _, in := range []string{"BIRTHDAY", "  birthday ", "äpfelsaft", "abc-def-gh", "zzzzzzzz", "short", "ÄÄÄÄÄÄÄÄÄÄÄÄ"} {
		if n := testing.AllocsPerRun(100, func() { set.Lookup(in) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %.1f times", in, n)
		}
	}
	var empty Set
	if empty.Lookup("BIRTHDAY") != NotFound || empty.Len() != 0 {
		t.Error("zero Set must be empty")
	}
}

func TestGzipErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeGz(t, dir, "good.gz", strings.Repeat("ABCDEFGH\nBIRTHDAY\n", 5000))
	data, _ := os.ReadFile(good)
	truncated := dir + "/truncated.gz"
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	badCRC := dir + "/badcrc.gz"
	corrupt := slices.Clone(data)
	corrupt[len(corrupt)-6] ^= 0xff // inside the CRC-32 of the trailer
	os.WriteFile(badCRC, corrupt, 0o644)
	badLen := dir + "/badlen.gz"
	corrupt = slices.Clone(data)
	corrupt[len(corrupt)-1] ^= 0x01 // inside ISIZE
	os.WriteFile(badLen, corrupt, 0o644)
	notGzip := dir + "/plain.gz"
	os.WriteFile(notGzip, []byte("BIRTHDAY\nBIRTHDAY\n"), 0o644)
	empty := dir + "/empty.gz"
	os.WriteFile(empty, nil, 0o644)

	for _, dec := range allDecoders(t) {
		for _, bad := range []string{truncated, badCRC, badLen, notGzip, empty, dir + "/missing.gz"} {
			t.Run(dec+"/"+bad[len(dir)+1:], func(t *testing.T) {
				tmp := t.TempDir()
				set, _, err := Build(context.Background(), Options{Files: []string{good, bad}, Decoder: dec, TempDir: tmp})
				if err == nil {
					t.Fatalf("want an error, got a set of %d codes", set.Len())
				}
				if set != nil {
					t.Error("a failed build must not return a set")
				}
				if !strings.Contains(err.Error(), "coupon file "+bad) {
					t.Errorf("error does not name the file: %v", err)
				}
				if left, _ := os.ReadDir(tmp); len(left) != 0 {
					t.Errorf("temporary files left: %v", left)
				}
			})
		}
	}
}

// TestIgzipFallback checks that the automatic choice falls back to a pure-Go
// decoder when igzip is absent.
func TestIgzipFallback(t *testing.T) {
	saved, savedISAL := igzipPath, useISAL
	defer func() { igzipPath, useISAL = saved, savedISAL }()
	igzipPath = func() string { return "" }
	useISAL = false
	if d, err := resolveDecoder(""); err != nil || d != DecoderKlauspost {
		t.Errorf("auto without igzip = %q, %v", d, err)
	}
	if _, err := resolveDecoder(DecoderIgzip); err == nil {
		t.Error("forcing igzip without it must fail")
	}
	if _, err := resolveDecoder("zstd"); err == nil {
		t.Error("unknown decoder must fail")
	}
	dir := t.TempDir()
	files := writeFiles(t, dir, "BIRTHDAY\n", "BIRTHDAY\n")
	set, st := mustBuild(t, Options{Files: files})
	if st.Decoder != DecoderKlauspost || set.Lookup("BIRTHDAY") != Valid {
		t.Errorf("fallback build: decoder %q, %d codes", st.Decoder, set.Len())
	}
}

func TestCancel(t *testing.T) {
	defer func(p time.Duration) { progressEvery = p }(progressEvery)
	progressEvery = 0
	dir := t.TempDir()
	big := strings.Repeat("ABCDEFGH\nABCDEFGHI\nABCDEFGHIJ\n", 200_000)
	files := writeFiles(t, dir, big, big)
	for _, dec := range allDecoders(t) {
		t.Run(dec, func(t *testing.T) {
			tmp := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			_, _, err := Build(ctx, Options{Files: files, Decoder: dec, TempDir: tmp, OnProgress: func(Progress) { cancel() }})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("cancellation took %v", el)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Build(ctx, Options{Files: files, TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("pre-cancelled build: err = %v", err)
	}
}

func TestProgress(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "BIRTHDAY\nOTHER123\n", "BIRTHDAY\n")
	var mu sync.Mutex
	var done []Progress
	mustBuild(t, Options{Files: files, OnProgress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Done {
			done = append(done, p)
		}
	}})
	if len(done) != 2 {
		t.Fatalf("got %d final reports, want 2", len(done))
	}
	for _, p := range done {
		st, _ := os.Stat(p.File)
		if p.CompressedTotal != st.Size() || p.Lines == 0 || p.Bytes == 0 {
			t.Errorf("final progress %+v", p)
		}
	}
}

// TestCancelDuringJoin cancels once every file is read, so the join itself
// must notice.
func TestCancelDuringJoin(t *testing.T) {
	defer func(b int) { bucketMaxBuf = b }(bucketMaxBuf)
	bucketMaxBuf = 64
	dir := t.TempDir()
	big := strings.Repeat("ABCDEFGH\n", 100) + "ZZZZZZZZ\n"
	files := writeFiles(t, dir, big, big, "ZZZZZZZZ\n")
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	done := 0
	tmp := t.TempDir()
	_, _, err := Build(ctx, Options{Files: files, TempDir: tmp, OnProgress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Done {
			if done++; done == len(files) {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestMultiMember checks that every decoder reads concatenated gzip members,
// as gzip -d does.
func TestMultiMember(t *testing.T) {
	dir := t.TempDir()
	a, _ := os.ReadFile(writeGz(t, dir, "a.gz", "FIRSTONE\nSHARED01\n"))
	b, _ := os.ReadFile(writeGz(t, dir, "b.gz", "SECONDTWO\nSHARED02\n"))
	multi := dir + "/multi.gz"
	os.WriteFile(multi, append(a, b...), 0o644)
	other := writeGz(t, dir, "other.gz", "FIRSTONE\nSECONDTWO\n")
	for _, dec := range allDecoders(t) {
		set, _ := mustBuild(t, Options{Files: []string{multi, other}, Decoder: dec})
		if got := codes(set); !slices.Equal(got, []string{"FIRSTONE", "SECONDTWO"}) {
			t.Errorf("%s: codes %q", dec, got)
		}
	}
}
