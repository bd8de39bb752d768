//go:build cgo && isal

package couponset

/*
#cgo LDFLAGS: -lisal
#include <stdlib.h>
#include <isa-l/igzip_lib.h>

static struct inflate_state *mk_state(void) {
	struct inflate_state *s = malloc(sizeof(struct inflate_state));
	if (s != NULL) {
		isal_inflate_init(s);
		s->crc_flag = ISAL_GZIP;
	}
	return s;
}

static void reset_state(struct inflate_state *s) {
	isal_inflate_reset(s);
	s->crc_flag = ISAL_GZIP;
}

static int finished(struct inflate_state *s) {
	return s->block_state == ISAL_BLOCK_FINISH;
}

// inflate_buf runs one inflate call over the given buffers and reports what
// is left of each. The state's buffer pointers are set and cleared here, in
// C: assigned from Go, each store would pass the previous value to the
// garbage collector's write barrier, and after a call that fills the output
// that value points just past the Go buffer, which the collector rejects.
static int inflate_buf(struct inflate_state *s, uint8_t *in, uint32_t in_len,
		uint8_t *out, uint32_t out_len, uint32_t *in_left, uint32_t *out_left) {
	s->next_in = in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_len;
	int ret = isal_inflate(s);
	*in_left = s->avail_in;
	*out_left = s->avail_out;
	s->next_in = NULL;
	s->next_out = NULL;
	return ret;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// isalAvailable reports whether this binary links ISA-L (build tag isal).
const isalAvailable = true

// isalReader decompresses a gzip file in process with ISA-L, so the output
// lands straight in the parser's buffer instead of crossing a pipe. The
// inflate state lives in C memory; the Go buffers it points to are pinned
// for the duration of each call.
type isalReader struct {
	f     *os.File
	state *C.struct_inflate_state
	in    []byte
	start int // unconsumed input is in[start:end]
	end   int
	pos   int64 // compressed bytes read from f
	eof   bool  // f is exhausted
	done  bool  // the last member finished and no input is left
	err   error
}

func openISAL(f *os.File) (*stream, error) {
	st := C.mk_state()
	if st == nil {
		return nil, errors.New("isal: out of memory")
	}
	r := &isalReader{f: f, state: st, in: make([]byte, 1<<20)}
	return &stream{r: r, compressedPos: func() int64 { return r.pos }, wait: func() error { return nil }, close: r.close}, nil
}

func (r *isalReader) close() {
	if r.state != nil {
		C.free(unsafe.Pointer(r.state))
		r.state = nil
	}
}

func isalError(code C.int) error {
	switch code {
	case C.ISAL_INVALID_BLOCK:
		return errors.New("isal: invalid deflate block")
	case C.ISAL_INVALID_SYMBOL:
		return errors.New("isal: invalid deflate symbol")
	case C.ISAL_INVALID_LOOKBACK:
		return errors.New("isal: invalid lookback distance")
	case C.ISAL_INVALID_WRAPPER:
		return errors.New("isal: invalid gzip header")
	case C.ISAL_UNSUPPORTED_METHOD:
		return errors.New("isal: unsupported compression method")
	case C.ISAL_INCORRECT_CHECKSUM:
		return errors.New("isal: checksum or length mismatch")
	}
	return fmt.Errorf("isal: error %d", int(code))
}

// fill reads more compressed input when all of it was consumed.
func (r *isalReader) fill() error {
	if r.start < r.end || r.eof {
		return nil
	}
	n, err := r.f.Read(r.in)
	r.start, r.end = 0, n
	r.pos += int64(n)
	if err == io.EOF {
		r.eof = true
		return nil
	}
	return err
}

func (r *isalReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	out := 0
	for out == 0 {
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
		if r.start == r.end && r.eof {
			if C.finished(r.state) != 0 {
				r.done = true
				return 0, io.EOF
			}
			r.err = io.ErrUnexpectedEOF
			return 0, r.err
		}
		if C.finished(r.state) != 0 {
			// Another gzip member follows, as gzip -d and the Go readers
			// accept.
			C.reset_state(r.state)
		}
		var inLeft, outLeft C.uint32_t
		ret := C.inflate_buf(r.state,
			(*C.uint8_t)(unsafe.Pointer(&r.in[r.start])), C.uint32_t(r.end-r.start),
			(*C.uint8_t)(unsafe.Pointer(&p[0])), C.uint32_t(len(p)), &inLeft, &outLeft)
		r.start = r.end - int(inLeft)
		out = len(p) - int(outLeft)
		if ret < 0 {
			r.err = isalError(ret)
			return 0, r.err
		}
		if out == 0 && r.start == r.end && C.finished(r.state) != 0 && r.eof {
			r.done = true
			return 0, io.EOF
		}
	}
	return out, nil
}
