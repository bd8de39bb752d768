package couponset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIndex(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "BIRTHDAY\nABC-DEF-GH\nONLYONE1\n", "birthday\nabc-def-gh\n")
	idx := filepath.Join(dir, "coupons.idx")
	o := Options{Files: files, IndexPath: idx, TempDir: t.TempDir()}
	want := []string{"ABC-DEF-GH", "BIRTHDAY"}

	load := func(t *testing.T, o Options) (*Set, Stats) {
		t.Helper()
		set, st, err := Load(context.Background(), o)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if got := codes(set); !slices.Equal(got, want) {
			t.Fatalf("codes = %q, want %q", got, want)
		}
		return set, st
	}

	t.Run("missing index builds and writes it", func(t *testing.T) {
		_, st := load(t, o)
		if st.FromIndex || st.IndexRebuilt || !st.IndexWritten {
			t.Fatalf("stats = %+v", st)
		}
		if _, err := os.Stat(idx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("hit does not build", func(t *testing.T) {
		// An unknown decoder fails any build, so only a hit can succeed.
		o := o
		o.Decoder = "none"
		set, st := load(t, o)
		if !st.FromIndex || st.IndexRebuilt || st.Lines != 0 || st.Decoder != "" {
			t.Fatalf("stats = %+v", st)
		}
		if set.Lookup("birthday") != Valid || set.Lookup("ONLYONE1") != NotFound {
			t.Error("lookups from the index are wrong")
		}
		if st.Duration > 100*time.Millisecond {
			t.Errorf("warm start took %v", st.Duration)
		}
	})
	t.Run("OpenIndex", func(t *testing.T) {
		set, st, err := OpenIndex(o)
		if err != nil || !st.FromIndex || set.Len() != 2 {
			t.Fatalf("OpenIndex = %v, %+v, %v", set, st, err)
		}
		if _, _, err := OpenIndex(Options{Files: files, IndexPath: filepath.Join(dir, "none.idx")}); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing index: err = %v", err)
		}
	})
	t.Run("stale mtime rebuilds", func(t *testing.T) {
		later := time.Now().Add(time.Hour)
		os.Chtimes(files[1], later, later)
		_, st := load(t, o)
		if st.FromIndex || !st.IndexRebuilt || !strings.Contains(st.IndexReason, "older versions of the files") {
			t.Fatalf("stats = %+v", st)
		}
		_, st = load(t, o)
		if !st.FromIndex {
			t.Fatalf("rebuilt index not used: %+v", st)
		}
	})
	t.Run("same size and mtime, other content rebuilds", func(t *testing.T) {
		info, _ := os.Stat(files[0])
		data, _ := os.ReadFile(files[0])
		other := writeGz(t, t.TempDir(), "x.gz", "BIRTHDAY\nABC-DEF-GH\nONLYONE2\n")
		odata, _ := os.ReadFile(other)
		if len(odata) != len(data) {
			t.Fatalf("test needs equal sizes: %d vs %d", len(odata), len(data))
		}
		os.WriteFile(files[0], odata, 0o644)
		os.Chtimes(files[0], info.ModTime(), info.ModTime())
		_, st := load(t, o)
		if !st.IndexRebuilt {
			t.Fatalf("content change not detected: %+v", st)
		}
	})
	t.Run("corrupt index rebuilds", func(t *testing.T) {
		data, _ := os.ReadFile(idx)
		for _, at := range []int{0, 20, len(data) / 2, len(data) - 1} {
			bad := slices.Clone(data)
			bad[at] ^= 0x40
			os.WriteFile(idx, bad, 0o644)
			if _, _, err := OpenIndex(o); err == nil {
				t.Fatalf("flipped byte %d accepted", at)
			}
			_, st := load(t, o)
			if !st.IndexRebuilt || st.FromIndex {
				t.Fatalf("byte %d: stats = %+v", at, st)
			}
		}
		os.WriteFile(idx, data[:len(data)-3], 0o644)
		if _, st := load(t, o); !st.IndexRebuilt {
			t.Fatalf("truncated index: stats = %+v", st)
		}
		os.WriteFile(idx, nil, 0o644)
		if _, st := load(t, o); !st.IndexRebuilt {
			t.Fatalf("empty index: stats = %+v", st)
		}
	})
	t.Run("foreign index rebuilds", func(t *testing.T) {
		odir := t.TempDir()
		ofiles := writeFiles(t, odir, "FOREIGN1\n", "FOREIGN1\n")
		if _, _, err := Build(context.Background(), Options{Files: ofiles, IndexPath: idx}); err != nil {
			t.Fatal(err)
		}
		owner, m, err := IndexOwner(idx)
		if err != nil || m != 2 || !SameFiles(ofiles, owner) || SameFiles(files, owner) {
			t.Errorf("IndexOwner = %v, %d, %v; want the foreign files", owner, m, err)
		}
		_, st := load(t, o) // load checks the codes built
		if st.IndexWritten || st.FromIndex || !strings.Contains(st.IndexError, "belongs to other files ("+ofiles[0]) {
			t.Fatalf("stats = %+v; want the set built and the foreign index left alone", st)
		}
		if owner, _, err := IndexOwner(idx); err != nil || !SameFiles(ofiles, owner) {
			t.Errorf("after Load, IndexOwner = %v, %v; want the foreign files still", owner, err)
		}
		// Told to (coupons build --force builds with Build), it is replaced.
		if _, _, err := Build(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if _, st := load(t, o); !st.FromIndex {
			t.Fatalf("after Build: stats = %+v", st)
		}
	})
	t.Run("another min files' index is left alone", func(t *testing.T) {
		o1 := o
		o1.MinFiles = 1
		set, st, err := Load(context.Background(), o1)
		if err != nil || st.IndexWritten || !strings.Contains(st.IndexError, "min files 2") || set.Len() != 3 {
			t.Fatalf("min files 1: %d codes, %+v, %v", set.Len(), st, err)
		}
		if _, m, _ := IndexOwner(idx); m != 2 {
			t.Errorf("index min files = %d, want 2 (left alone)", m)
		}
	})
	t.Run("no temporary index files left", func(t *testing.T) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("left behind: %s", e.Name())
			}
		}
	})
}

func TestIndexWriteFailure(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, "BIRTHDAY\n", "BIRTHDAY\n")
	o := Options{Files: files, IndexPath: filepath.Join(dir, "missing-dir", "x.idx")}
	set, _, err := Build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "write index") || set != nil {
		t.Fatalf("Build: set %v, err %v", set, err)
	}
	set, st, err := Load(context.Background(), o)
	if err != nil || set.Lookup("BIRTHDAY") != Valid || st.IndexWritten || !strings.Contains(st.IndexError, "write index") {
		t.Fatalf("Load: %+v, %v", st, err)
	}
}

// TestIndexMappedTable covers the table used in place in the index file: it
// must survive collections, a rebuild that replaces the file, and the
// release of other sets loaded from the same file.
func TestIndexMappedTable(t *testing.T) {
	dir := t.TempDir()
	var a, b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&a, "CODE%05d\n", i)
		if i%2 == 0 {
			fmt.Fprintf(&b, "code%05d\n", i)
		}
	}
	files := writeFiles(t, dir, a.String(), b.String())
	o := Options{Files: files, IndexPath: filepath.Join(dir, "coupons.idx"), TempDir: t.TempDir()}
	if _, _, err := Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	set, st, err := OpenIndex(o)
	if err != nil || !st.FromIndex {
		t.Fatalf("OpenIndex: %+v, %v", st, err)
	}
	for range 3 {
		other, _, err := OpenIndex(o)
		if err != nil || other.Len() != 2500 {
			t.Fatalf("OpenIndex: %v", err)
		}
	}
	if _, _, err := Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	if set.Len() != 2500 || len(set.Codes()) != 2500 {
		t.Fatalf("len = %d", set.Len())
	}
	for i := range 5000 {
		want := NotFound
		if i%2 == 0 {
			want = Valid
		}
		if got := set.Lookup(fmt.Sprintf("code%05d", i)); got != want {
			t.Fatalf("code%05d: %v, want %v", i, got, want)
		}
	}
}

// TestChecksumChunks checks that the streamed and the parallel index
// checksums agree around chunk boundaries.
func TestChecksumChunks(t *testing.T) {
	data := make([]byte, 2*sumChunk+100)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, sumChunk - 1, sumChunk, sumChunk + 1, 2 * sumChunk, len(data)} {
		h := &chunkSum{}
		for p := data[:n]; len(p) > 0; {
			k := min(len(p), 1<<20+3)
			h.Write(p[:k])
			p = p[k:]
		}
		if got, want := h.Sum32(), checksum(data[:n], 2); got != want {
			t.Errorf("%d bytes: streamed %08x, parallel %08x", n, got, want)
		}
	}
}
