package log

import (
	"io"
	"sync"
	"time"
)

// batchWriter gathers whole log lines in memory while the application runs
// and writes them to out in batches: one write per flush interval instead of
// one per line, which under load is a system call saved per request.
//
// It is bounded and loses nothing on an orderly stop:
//   - a line that would take the pending bytes past limit first writes what
//     is pending, in the caller, so at most limit bytes ever wait (the caller
//     waits instead of a line being dropped);
//   - stop writes everything pending before it returns, and from then on, as
//     before start, every line is written at once.
//
// A process killed outright (SIGKILL, a crash) loses the lines still
// pending: those of the last interval, at most limit bytes.
type batchWriter struct {
	out      io.Writer
	limit    int
	interval time.Duration

	mu      sync.Mutex
	pending []byte
	// spare is the last batch's buffer, reused for the next.
	spare   []byte
	running bool
	quit    chan struct{}
	done    chan struct{}
	// outMu is held while anything is written to out.
	outMu sync.Mutex
}

func newBatchWriter(out io.Writer, limit int, interval time.Duration) *batchWriter {
	return &batchWriter{out: out, limit: limit, interval: interval}
}

// Write takes one line (zerolog writes each event in one call).
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for w.running && len(w.pending) > 0 && len(w.pending)+len(p) > w.limit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		w.mu.Lock()
	}
	if !w.running || len(p) > w.limit {
		w.outMu.Lock()
		w.mu.Unlock()
		defer w.outMu.Unlock()
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	return len(p), nil
}

// flushLocked writes what is pending. It is called with mu held and returns
// with it released; it takes outMu before releasing mu (the one lock order,
// mu then outMu), so batches and direct lines reach out in the order they
// were taken.
func (w *batchWriter) flushLocked() error {
	batch := w.pending
	w.pending, w.spare = w.spare[:0], nil
	w.outMu.Lock()
	w.mu.Unlock()
	var err error
	if len(batch) > 0 {
		_, err = w.out.Write(batch)
	}
	w.outMu.Unlock()
	w.mu.Lock()
	if w.spare == nil && cap(batch) <= 2*w.limit {
		w.spare = batch[:0]
	}
	w.mu.Unlock()
	return err
}

// start begins batching, flushing every interval.
func (w *batchWriter) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return
	}
	w.running = true
	w.quit, w.done = make(chan struct{}), make(chan struct{})
	go w.loop(w.quit, w.done)
}

func (w *batchWriter) loop(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			w.mu.Lock()
			_ = w.flushLocked()
		}
	}
}

// stop writes everything pending and writes every later line at once. A
// line logged meanwhile waits for the pending ones, so the order holds.
func (w *batchWriter) stop() error {
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return nil
	}
	w.running = false
	quit, done := w.quit, w.done
	err := w.flushLocked()
	close(quit)
	<-done
	return err
}
