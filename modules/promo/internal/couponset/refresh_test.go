package couponset

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests below cover what a server needs to rebuild a set while it
// serves with another one.

func TestBuildLeavesTheRuntimeMemoryLimitAlone(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "HAPPYHRS\nBIRTHDAY\n", "HAPPYHRS\nOVER9000\n")
	before := debug.SetMemoryLimit(-1)
	var during []int64
	var mu sync.Mutex
	o := Options{Files: files, MemoryBudget: 16 << 20, OnProgress: func(Progress) {
		mu.Lock()
		during = append(during, debug.SetMemoryLimit(-1))
		mu.Unlock()
	}}
	mustBuild(t, o)
	if len(during) == 0 {
		t.Fatal("no progress reported")
	}
	for _, l := range during {
		if l != before {
			t.Errorf("memory limit %d during a build, %d before: a build must not change process-wide settings", l, before)
		}
	}
	if before != math.MaxInt64 {
		t.Logf("memory limit was already set to %d", before)
	}
}

// TestWorkersBoundTheDecodingAtOnce checks that with one worker no two
// files are read and parsed at the same moment, and that the files still
// take turns rather than wait for each other to finish: a build with fewer
// workers than files keeps every worker busy until the last file ends.
func TestWorkersBoundTheDecodingAtOnce(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = 0 // a report after every read, so a file's decoding spans several
	dir := t.TempDir()
	var contents []string
	for i, shared := range []string{"HAPPYHRS\nBIRTHDAY\n", "HAPPYHRS\nOVER9000\n", "BIRTHDAY\nOVER9000\n"} {
		filler := "ONLYIN" + string(rune('A'+i)) + "0\n"
		contents = append(contents, shared+strings.Repeat(filler, 2*readBuf/len(filler)+1))
	}
	files := writeFiles(t, dir, contents...)

	type span struct{ first, last int }
	var mu sync.Mutex
	seq, active, most := 0, 0, 0
	spans := map[string]*span{}
	o := Options{Files: files, Workers: 1, Decoder: DecoderStd, OnProgress: func(p Progress) {
		if p.Done {
			return // the last report comes after the decoding
		}
		// Other reports are made while the step holds its token.
		mu.Lock()
		active++
		most = max(most, active)
		seq++
		if spans[p.File] == nil {
			spans[p.File] = &span{first: seq}
		}
		spans[p.File].last = seq
		mu.Unlock()
		time.Sleep(200 * time.Microsecond) // long enough for the others to queue
		mu.Lock()
		active--
		mu.Unlock()
	}}
	set, _ := mustBuild(t, o)
	if got := codes(set); !slices.Equal(got, []string{"BIRTHDAY", "HAPPYHRS", "OVER9000"}) {
		t.Errorf("codes = %v", got)
	}
	if most != 1 {
		t.Errorf("with one worker, %d files were decoding at the same moment", most)
	}
	for _, f := range files {
		if s := spans[f]; s.last-s.first < 2 {
			t.Fatalf("%s reported %d times, too few to see turns", filepath.Base(f), s.last-s.first+1)
		}
	}
	turns := 0
	for _, a := range files {
		for _, b := range files {
			if sa, sb := spans[a], spans[b]; a != b && sa.first < sb.first && sb.first < sa.last {
				turns++
			}
		}
	}
	if turns == 0 {
		t.Errorf("the files were decoded one after the other, not in turns: %v", spans)
	}
}

func TestMaxSetBytesFailsABuildOverBudget(t *testing.T) {
	dir := t.TempDir()
	var a, b []byte
	for i := range 1000 {
		code := []byte{'C', 'O', 'D', 'E', byte('A' + i%26), byte('A' + i/26%26), byte('A' + i/676), 'X', '\n'}
		a, b = append(a, code...), append(b, code...)
	}
	files := writeFiles(t, dir, string(a), string(b))
	_, _, err := Build(context.Background(), Options{Files: files, MaxSetBytes: 4 << 10, TempDir: t.TempDir()})
	if !errors.Is(err, ErrOverBudget) {
		t.Errorf("err = %v, want ErrOverBudget", err)
	}
	if _, _, err := Build(context.Background(), Options{Files: files, MaxSetBytes: 1 << 20, TempDir: t.TempDir()}); err != nil {
		t.Errorf("within budget: %v", err)
	}
}

func TestFingerprintFollowsTheFiles(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "HAPPYHRS\n", "HAPPYHRS\n")
	fp, err := Fingerprint(files, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, st := mustBuild(t, Options{Files: files})
	if st.Fingerprint != fp {
		t.Errorf("build recorded %q, Fingerprint says %q", st.Fingerprint, fp)
	}
	if other, _ := Fingerprint(files, 1); other == fp {
		t.Error("min files is not part of the fingerprint")
	}
	writeGz(t, dir, "fb.gz", "BIRTHDAY\n")
	if changed, _ := Fingerprint(files, 2); changed == fp {
		t.Error("new content, same fingerprint")
	}
	var fe *FileError
	if _, err := Fingerprint([]string{filepath.Join(dir, "missing.gz")}, 1); !errors.As(err, &fe) || fe.Path != filepath.Join(dir, "missing.gz") {
		t.Errorf("missing file: %v, want a FileError naming it", err)
	}
}

func TestConcurrentLoadsShareOneBuild(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "HAPPYHRS\nBIRTHDAY\n", "HAPPYHRS\nBIRTHDAY\n")
	index := filepath.Join(dir, "coupons.idx")
	// The first load holds the build lock while "building"; the second
	// waits for it and then reads what it wrote.
	unlock, err := lockIndex(context.Background(), index)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		st  Stats
		err error
	}
	second := make(chan result)
	go func() {
		_, st, err := Load(context.Background(), Options{Files: files, IndexPath: index, TempDir: t.TempDir()})
		second <- result{st, err}
	}()
	time.Sleep(3 * lockPoll)
	set, _, err := Build(context.Background(), Options{Files: files, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := fingerprint(files)
	if err := writeIndex(index, ids, 2, set); err != nil {
		t.Fatal(err)
	}
	unlock()
	r := <-second
	if r.err != nil || !r.st.FromIndex || !r.st.WaitedForBuild || r.st.Lines != 0 {
		t.Errorf("second load: %+v, %v; want it read from the index the first wrote", r.st, r.err)
	}
}

func TestLockWaitHonoursTheContext(t *testing.T) {
	index := filepath.Join(t.TempDir(), "coupons.idx")
	unlock, err := lockIndex(context.Background(), index)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*lockPoll)
	defer cancel()
	if _, err := lockIndex(ctx, index); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's", err)
	}
}
