package log

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx/fxtest"
)

// recorder keeps every write it is given, each as one batch.
type recorder struct {
	mu      sync.Mutex
	batches [][]byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, bytes.Clone(p))
	return len(p), nil
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(bytes.Join(r.batches, nil))
}

func (r *recorder) writes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

func numbered(i int) []byte { return fmt.Appendf(nil, "{\"n\":%04d}\n", i) }

func numberedLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.Write(numbered(i))
	}
	return b.String()
}

func TestBatchWriterWritesAtOnceWhenNotRunning(t *testing.T) {
	rec := &recorder{}
	w := newBatchWriter(rec, 1<<20, time.Hour)
	_, _ = w.Write(numbered(0))
	w.start()
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(numbered(1))
	if got, want := rec.text(), numberedLines(0, 2); got != want || rec.writes() != 2 {
		t.Errorf("before start and after stop got %d writes %q, want each line at once: %q", rec.writes(), got, want)
	}
}

func TestBatchWriterStopWritesEveryPendingLine(t *testing.T) {
	rec := &recorder{}
	w := newBatchWriter(rec, 1<<20, time.Hour)
	w.start()
	for i := range 100 {
		_, _ = w.Write(numbered(i))
	}
	if n := rec.writes(); n != 0 {
		t.Fatalf("%d writes before the first flush, want the lines held", n)
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.text(), numberedLines(0, 100); got != want || rec.writes() != 1 {
		t.Errorf("after stop got %d writes %q, want one batch of every line in order", rec.writes(), got)
	}
}

func TestBatchWriterNeverHoldsMoreThanItsLimit(t *testing.T) {
	rec := &recorder{}
	n := len(numbered(0))
	limit := 3*n + n/2 // room for three lines, not four
	w := newBatchWriter(rec, limit, time.Hour)
	w.start()
	for i := range 10 {
		_, _ = w.Write(numbered(i))
	}
	if got, want := rec.text(), numberedLines(0, 9); got != want {
		t.Errorf("written before stop %q, want all but the lines that fit the limit: %q", got, want)
	}
	_ = w.stop()
	for _, b := range rec.batches {
		if len(b) > limit {
			t.Errorf("a batch of %d bytes, over the limit of %d", len(b), limit)
		}
	}
	if got, want := rec.text(), numberedLines(0, 10); got != want {
		t.Errorf("after stop %q, want %q", got, want)
	}
}

func TestBatchWriterWritesALineLongerThanItsLimitAtOnce(t *testing.T) {
	rec := &recorder{}
	w := newBatchWriter(rec, 8, time.Hour)
	w.start()
	defer func() { _ = w.stop() }()
	_, _ = w.Write(numbered(7))
	if got, want := rec.text(), numberedLines(7, 8); got != want {
		t.Errorf("written %q, want the long line at once: %q", got, want)
	}
}

func TestBatchWriterFlushesEveryInterval(t *testing.T) {
	rec := &recorder{}
	w := newBatchWriter(rec, 1<<20, time.Millisecond)
	w.start()
	defer func() { _ = w.stop() }()
	_, _ = w.Write(numbered(0))
	deadline := time.Now().Add(10 * time.Second)
	for rec.text() != numberedLines(0, 1) {
		if time.Now().After(deadline) {
			t.Fatal("the line was never flushed while running")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBatchWriterKeepsConcurrentLinesWholeAndCounted(t *testing.T) {
	rec := &recorder{}
	w := newBatchWriter(rec, 4096, time.Millisecond)
	w.start()
	var wg sync.WaitGroup
	const writers, each = 8, 500
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				_, _ = w.Write(numbered(g*each + i))
			}
		})
	}
	wg.Wait()
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range strings.SplitAfter(rec.text(), "\n") {
		if l == "" {
			continue
		}
		if len(l) != len(numbered(0)) || !strings.HasPrefix(l, `{"n":`) || seen[l] {
			t.Fatalf("a torn or repeated line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d lines written, want %d", len(seen), writers*each)
	}
}

func TestBatchedLoggerBatchesBetweenStartAndStop(t *testing.T) {
	rec := &recorder{}
	lc := fxtest.NewLifecycle(t)
	l := New(Config{Level: "info", Format: "json"}, batched(Config{FlushInterval: time.Hour, BufferBytes: 1 << 20}, lc, rec))
	l.Info().Msg("before start")
	lc.RequireStart()
	l.Info().Msg("while running")
	if strings.Contains(rec.text(), "while running") {
		t.Error("a line logged while running was written before a flush")
	}
	if err := lc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.text()
	if !strings.Contains(got, "before start") || !strings.Contains(got, "while running") ||
		strings.Index(got, "before start") > strings.Index(got, "while running") {
		t.Errorf("after stop the log is %q, want both lines in order", got)
	}
}

func TestBatchedIsOffWithoutAnInterval(t *testing.T) {
	rec := &recorder{}
	if w := batched(Config{BufferBytes: 1 << 20}, fxtest.NewLifecycle(t), rec); w != rec {
		t.Errorf("flush_interval 0 wraps the output in %T, want it as is", w)
	}
}

// BenchmarkRequestLine logs a request line to a file, as the server logs to
// its stdout: each line written at once (direct) against the lines of a
// running server batched (batched).
func BenchmarkRequestLine(b *testing.B) {
	run := func(b *testing.B, batch bool) {
		f, err := os.CreateTemp(b.TempDir(), "log")
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var out io.Writer = f
		if batch {
			w := newBatchWriter(f, 256<<10, 50*time.Millisecond)
			w.start()
			defer func() { _ = w.stop() }()
			out = w
		}
		l := New(Config{Level: "info", Format: "json"}, out)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Info().Str("correlation_id", "2eb2383e-c60c-4444-b731-b69a95074d2e").Str("method", "GET").
					Str("path", "/api/product/1").Str("route", "/api/product/:productId").Int("status", 200).
					Float64("duration_ms", 0.038).Int("bytes", 365).Str("client_ip", "127.0.0.1").Msg("request")
			}
		})
	}
	b.Run("direct", func(b *testing.B) { run(b, false) })
	b.Run("batched", func(b *testing.B) { run(b, true) })
}
