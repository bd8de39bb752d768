package couponset

import "sync"

// spillWriter writes the full buffers of spilling buckets in the background,
// so that a parser hands a megabyte to the disk and goes on parsing instead
// of waiting for a write that bypasses the page cache. It bounds the memory
// this costs: spare buffers at most are in flight, and a bucket that wants
// one more waits until a write ends.
type spillWriter struct {
	jobs chan func()
	free chan []byte // buffers (nil: not allocated yet) a bucket may swap in
	wg   sync.WaitGroup
	// clock, when set, times the writes (see spill writes in Stats.Phases).
	clock *phaseClock
}

func newSpillWriter(writers, spare int) *spillWriter {
	w := &spillWriter{jobs: make(chan func(), spare), free: make(chan []byte, spare)}
	for range spare {
		w.free <- nil
	}
	for range writers {
		w.wg.Go(func() {
			for job := range w.jobs {
				t := w.clock.begin()
				job()
				t.end()
			}
		})
	}
	return w
}

// buffer returns a direct-I/O aligned buffer of n bytes, waiting while every
// spare one is being written.
func (w *spillWriter) buffer(n int) []byte {
	b := <-w.free
	if len(b) != n {
		b = alignedBytes(n)
	}
	return b
}

// write runs the write job in the background, then gives buf back for reuse.
func (w *spillWriter) write(buf []byte, job func()) {
	w.jobs <- func() {
		job()
		w.free <- buf
	}
}

// close waits for every write and stops the writers.
func (w *spillWriter) close() {
	close(w.jobs)
	w.wg.Wait()
}

// timer times a write a bucket makes itself (its last one, or every one
// where there is no background writer).
func (w *spillWriter) timer() stepTimer {
	if w == nil {
		return stepTimer{}
	}
	return w.clock.begin()
}
