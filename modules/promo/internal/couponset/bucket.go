package couponset

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"unsafe"
)

const bucketStartBuf = 4 << 10

// bucketMaxBuf is how much of one bucket stays in memory before it spills;
// nine buckets for three files keep this well under the budget. Tests lower
// it to exercise spilling.
var bucketMaxBuf = 1 << 20

// spillParts is how many files a trailing file's bucket spills into, each
// code into the one a hash of it picks (partition), so that the check of
// what the bucket kept against the leading files' codes reads back only
// the files that hold one of them.
const spillParts = 32

// partMaxBuf bounds the buffer of each of those files, so that they take
// 4 MiB together; tests lower it.
var partMaxBuf = 128 << 10

// bucket collects the packed codes of one length from one file. Values are
// stored little-endian in width bytes each; the buffer keeps 8 spare bytes
// so add can always write a whole uint64.
type bucket struct {
	width int
	buf   []byte
	n     int
	limit int   // grow once n passes it: len(buf) - 8 - width
	count int64 // set by finish
	path  string
	f     *os.File
	err   error
	// direct writes whole aligned blocks past the page cache and reads
	// them back the same way; nil when the file system does not allow it.
	direct *os.File
	// written is the file size; last is the size of the latest write, which
	// writeBehind drops from the page cache on the next spill.
	written, last int64
	// writer, when set, takes the direct writes in the background; pending
	// counts those in flight and writeErr keeps the first that failed.
	writer   *spillWriter
	pending  sync.WaitGroup
	errMu    sync.Mutex
	writeErr error

	// mode says what a full buffer does: spill (keep), vanish (drop), or
	// get checked against the leading files' codes (probe, into sink).
	mode bucketMode
	sink *probeSink
	// mayDrop, when set, is asked before the first spill and each one
	// after it whether the codes may be dropped instead (see stager).
	mayDrop func() bool
	// discarded counts the values dropped or probed rather than kept.
	discarded int64
	// parts, when set, take the codes once the buffer is full instead of
	// one spill file (see spillParts); scattered says that they hold codes.
	parts     []*bucket
	scattered bool
	// maxBuf, when set, bounds the buffer instead of bucketMaxBuf.
	maxBuf int
}

type bucketMode uint8

const (
	// keepCodes keeps every value: in memory, then in the spill file.
	keepCodes bucketMode = iota
	// dropCodes keeps none: the build reads the file again if it turns
	// out to need them.
	dropCodes
	// probeCodes checks every value against the leading files' codes as
	// it comes and keeps none.
	probeCodes
)

// seen is how many values the bucket was given so far, kept or not.
func (b *bucket) seen() int64 {
	n := (b.written+int64(b.n))/int64(b.width) + b.discarded
	if b.scattered {
		for _, p := range b.parts {
			n += p.seen()
		}
	}
	return n
}

// bufMax is how large the buffer grows before it spills.
func (b *bucket) bufMax() int {
	if b.maxBuf > 0 {
		return b.maxBuf
	}
	return bucketMaxBuf
}

// splitSpill gives the bucket n parts that take its codes once its buffer
// is full, spilling into files named after its own.
func (b *bucket) splitSpill(n int) []*bucket {
	b.parts = make([]*bucket, n)
	for i := range b.parts {
		p := newBucket(b.width, fmt.Sprintf("%s-p%02d", b.path, i))
		p.writer, p.maxBuf = b.writer, partMaxBuf
		p.setBuf(make([]byte, min(bucketStartBuf, partMaxBuf)+8))
		b.parts[i] = p
	}
	return b.parts
}

// scatter moves the buffered codes to the parts their hash picks.
func (b *bucket) scatter() {
	b.scattered = true
	mask := uint64(1)<<(8*b.width) - 1
	for off := 0; off < b.n; off += b.width {
		v := binary.LittleEndian.Uint64(b.buf[off:]) & mask
		b.parts[partition(v, len(b.parts))].add(v)
	}
	b.n = 0
}

func newBucket(width int, path string) *bucket {
	b := &bucket{width: width, path: path}
	b.setBuf(make([]byte, min(bucketStartBuf, bucketMaxBuf)+8))
	return b
}

func (b *bucket) setBuf(buf []byte) {
	b.buf = buf
	b.limit = len(buf) - 8 - b.width
}

// add is kept small enough for the compiler to inline it into the parser.
func (b *bucket) add(v uint64) {
	binary.LittleEndian.PutUint64(b.buf[b.n:], v)
	b.n += b.width
	if b.n > b.limit {
		b.grow()
	}
}

// grow doubles the in-memory buffer until bufMax, then spills it (or
// scatters it to the parts, or drops or probes it, as the mode says).
func (b *bucket) grow() {
	if b.mode == keepCodes && len(b.buf)-8 >= b.bufMax() && b.mayDrop != nil && b.mayDrop() {
		b.mode = dropCodes
	}
	switch b.mode {
	case dropCodes:
		b.discarded += int64(b.n / b.width)
		b.n = 0
		return
	case probeCodes:
		b.sink.mark(b.buf[:b.n+8], int64(b.n/b.width), b.width)
		b.discarded += int64(b.n / b.width)
		b.n = 0
		return
	}
	if len(b.buf)-8 < b.bufMax() {
		nb := make([]byte, 2*(len(b.buf)-8)+8)
		copy(nb, b.buf[:b.n])
		b.setBuf(nb)
		return
	}
	if b.parts != nil {
		b.scatter()
		return
	}
	b.spill()
}

func (b *bucket) spill() {
	if b.err != nil {
		b.n = 0
		return
	}
	if b.f == nil {
		f, err := os.OpenFile(b.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			b.err = fmt.Errorf("create spill file: %w", err)
			b.n = 0
			return
		}
		b.f = f
		// The remainder left by an aligned write must leave room to
		// fill, so a buffer of a few blocks at least is needed.
		if len(b.buf)-8 >= 4*directAlign {
			b.direct = openDirect(b.path)
		}
		if b.direct != nil && !isAligned(b.buf) {
			nb := alignedBytes(len(b.buf))
			copy(nb, b.buf[:b.n])
			b.setBuf(nb)
		}
	}
	if b.direct != nil {
		// Only whole aligned blocks go past the cache; the rest moves to
		// the front and waits for the next spill or finish.
		k := b.n &^ (directAlign - 1)
		if k > 0 && b.writer != nil {
			// The full buffer goes to the writer; parsing goes on in a
			// fresh one that starts with the unaligned rest.
			full, off := b.buf, b.written
			next := b.writer.buffer(len(full))
			b.n = copy(next, full[k:b.n])
			b.setBuf(next)
			b.written += int64(k)
			b.pending.Add(1)
			b.writer.write(full, func() {
				defer b.pending.Done()
				if _, err := b.direct.WriteAt(full[:k], off); err != nil {
					b.errMu.Lock()
					if b.writeErr == nil {
						b.writeErr = fmt.Errorf("write spill file %s: %w", filepath.Base(b.path), err)
					}
					b.errMu.Unlock()
				}
			})
			return
		}
		if k > 0 {
			t := b.writer.timer()
			_, err := b.direct.WriteAt(b.buf[:k], b.written)
			t.end()
			if err != nil {
				b.err = fmt.Errorf("write spill file %s: %w", filepath.Base(b.path), err)
			}
			b.written += int64(k)
			b.n = copy(b.buf, b.buf[k:b.n])
		}
		return
	}
	t := b.writer.timer()
	_, err := b.f.WriteAt(b.buf[:b.n], b.written)
	writeBehind(b.f, b.written-b.last, b.last, b.written, int64(b.n))
	t.end()
	if err != nil {
		b.err = fmt.Errorf("write spill file %s: %w", filepath.Base(b.path), err)
	}
	b.written += int64(b.n)
	b.last = int64(b.n)
	b.n = 0
}

// finish writes what is left once the bucket has spilled, so that a spilled
// bucket lives entirely in its file (or its parts).
func (b *bucket) finish() error {
	if b.scattered {
		b.scatter()
		b.count = 0
		for _, p := range b.parts {
			if err := p.finish(); err != nil && b.err == nil {
				b.err = err
			}
			b.count += p.count
		}
		return b.err
	}
	b.pending.Wait()
	if b.err == nil {
		b.err = b.writeErr
	}
	if b.mode != keepCodes && b.n > 0 {
		b.grow()
	}
	b.count = (b.written + int64(b.n)) / int64(b.width)
	if b.f != nil && b.n > 0 && b.err == nil {
		t := b.writer.timer()
		_, err := b.f.WriteAt(b.buf[:b.n], b.written)
		t.end()
		if err != nil {
			b.err = fmt.Errorf("write spill file %s: %w", filepath.Base(b.path), err)
		}
		b.written += int64(b.n)
		b.n = 0
	}
	return b.err
}

// alignedBytes returns n bytes starting at a multiple of directAlign.
func alignedBytes(n int) []byte {
	raw := make([]byte, n+directAlign)
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & (directAlign - 1))
	return raw[skip : skip+n : skip+n]
}

func isAligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%directAlign == 0
}

// release closes and removes the spill file and frees the buffer.
func (b *bucket) release() {
	for _, p := range b.parts {
		p.release()
	}
	b.pending.Wait()
	if b.direct != nil {
		b.direct.Close()
		b.direct = nil
	}
	if b.f != nil {
		b.f.Close()
		os.Remove(b.path)
		b.f = nil
	}
	b.setBuf(nil)
	b.n = 0
}

// read calls fn with the values [from, to) in chunks of at most len(dst)
// values, keeping those of round rf. dst and raw are caller buffers so that
// parallel readers do not share state.
func (b *bucket) read(from, to int64, dst []uint64, raw []byte, rf roundFilter, fn func([]uint64) error) error {
	w := int64(b.width)
	mask := uint64(1)<<(8*b.width) - 1
	return b.readRaw(from, to, int64(len(dst)), raw, func(src []byte, cnt int64) error {
		out := dst[:0]
		if rf.rounds <= 1 {
			for i := int64(0); i < cnt; i++ {
				out = append(out, binary.LittleEndian.Uint64(src[i*w:])&mask)
			}
		} else {
			for i := int64(0); i < cnt; i++ {
				v := binary.LittleEndian.Uint64(src[i*w:]) & mask
				if partition(v, rf.rounds) == rf.round {
					out = append(out, v)
				}
			}
		}
		return fn(out)
	})
}

// readRaw calls fn with the stored bytes of the values [from, to), at most
// chunk values at a time: cnt values of width bytes, followed by 8 bytes
// that may be read but are not values, so that each value can be loaded as
// one uint64.
func (b *bucket) readRaw(from, to, chunk int64, raw []byte, fn func(src []byte, cnt int64) error) error {
	if b.scattered {
		// The parts one after another.
		var base int64
		for _, p := range b.parts {
			if lo, hi := max(from, base), min(to, base+p.count); lo < hi {
				if err := p.readRaw(lo-base, hi-base, chunk, raw, fn); err != nil {
					return err
				}
			}
			base += p.count
		}
		return nil
	}
	w := int64(b.width)
	for from < to {
		cnt := min(chunk, to-from)
		var src []byte
		if b.f == nil {
			src = b.buf[from*w : (from+cnt)*w+8]
		} else {
			var err error
			if src, raw, err = b.readAt(raw, from*w, cnt*w); err != nil {
				return err
			}
		}
		if err := fn(src, cnt); err != nil {
			return err
		}
		from += cnt
	}
	return nil
}

// readAt returns the n stored bytes at off followed by 8 readable bytes,
// read into raw (or a larger buffer, returned for reuse). With direct,
// whole aligned blocks around the range are read past the page cache.
func (b *bucket) readAt(raw []byte, off, n int64) (src, buf []byte, err error) {
	f, start, skip := b.f, off, int64(0)
	if b.direct != nil {
		f, start = b.direct, off&^(directAlign-1)
		skip = off - start
	}
	// Direct reads cover whole blocks: up to a block before the range and
	// one after it.
	size := (skip + n + directAlign - 1) &^ (directAlign - 1)
	if int64(len(raw)) < size+8 || !isAligned(raw) {
		raw = alignedBytes(int(size) + 8)
	}
	want := skip + n
	if b.direct == nil {
		size = want
	}
	got, err := f.ReadAt(raw[:size], start)
	if int64(got) >= want {
		err = nil
	} else if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, raw, fmt.Errorf("read spill file %s: %w", filepath.Base(b.path), err)
	}
	if b.direct == nil {
		dropRead(b.f, off, n)
	}
	return raw[skip : skip+n+8], raw, nil
}
