package couponset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	stdgzip "compress/gzip"

	kgzip "github.com/klauspost/compress/gzip"
)

// Decoder names accepted in Options.Decoder and reported in Stats.Decoder.
const (
	// DecoderAuto picks DecoderISAL when compiled in, else igzip when it is
	// installed, else DecoderKlauspost.
	DecoderAuto = "auto"
	// DecoderISAL decompresses in process with ISA-L through cgo. It is
	// only available in binaries built with the tag isal (the libisal-dev
	// package provides the library and headers); it saves igzip's pipe.
	DecoderISAL = "isal"
	// DecoderIgzip runs ISA-L's igzip as a child process per file. It is
	// several times faster than the Go decoders and checks CRC and length
	// (it exits non-zero on truncated or corrupt input).
	DecoderIgzip = "igzip"
	// DecoderKlauspost is github.com/klauspost/compress/gzip, pure Go.
	DecoderKlauspost = "klauspost"
	// DecoderStd is the standard library compress/gzip.
	DecoderStd = "gzip"
)

// igzipPath is looked up once; tests override it to force a path.
var igzipPath = sync.OnceValue(func() string {
	p, err := exec.LookPath("igzip")
	if err != nil {
		return ""
	}
	return p
})

// useISAL lets the automatic choice take ISA-L when it is compiled in;
// tests clear it to reach the other paths.
var useISAL = isalAvailable

// ResolveDecoder names the decoder a build given this Options.Decoder value
// runs in this binary, or says why there is none.
func ResolveDecoder(name string) (string, error) { return resolveDecoder(name) }

// resolveDecoder maps an Options.Decoder value to a concrete decoder.
func resolveDecoder(name string) (string, error) {
	switch name {
	case "", DecoderAuto:
		if useISAL {
			return DecoderISAL, nil
		}
		if igzipPath() != "" {
			return DecoderIgzip, nil
		}
		return DecoderKlauspost, nil
	case DecoderIgzip:
		if igzipPath() == "" {
			return "", errors.New("decoder igzip: igzip not found in PATH (install the isal package)")
		}
		return name, nil
	case DecoderISAL:
		if !isalAvailable {
			return "", errors.New("decoder isal: not compiled in (build with -tags isal)")
		}
		return name, nil
	case DecoderKlauspost, DecoderStd:
		return name, nil
	}
	return "", fmt.Errorf("unknown decoder %q (want auto, isal, igzip, klauspost or gzip)", name)
}

// stream is the decompressed content of one file. compressedPos reports how
// far into the compressed file the decoder is, for progress.
type stream struct {
	r             io.Reader
	compressedPos func() int64
	// wait reports a decoding error that only shows at the end (igzip's exit
	// status); it must be called after r returned io.EOF.
	wait  func() error
	close func()
	// child, when set, is the decoder's process; its CPU counts as the
	// file's inflating.
	child *exec.Cmd
}

// childCPU is the CPU time of the child decoder once it ended, else 0.
func (s *stream) childCPU() time.Duration {
	if s.child == nil || s.child.ProcessState == nil {
		return 0
	}
	return s.child.ProcessState.UserTime() + s.child.ProcessState.SystemTime()
}

// openStream starts decompressing f with the named decoder.
func openStream(ctx context.Context, decoder string, f *os.File) (*stream, error) {
	switch decoder {
	case DecoderIgzip:
		return openIgzip(ctx, f)
	case DecoderISAL:
		return openISAL(f)
	case DecoderKlauspost:
		cr := &countingReader{r: f}
		zr, err := kgzip.NewReader(bufio.NewReaderSize(cr, 1<<20))
		if err != nil {
			return nil, headerError(err)
		}
		return &stream{r: zr, compressedPos: cr.pos, wait: func() error { return nil }, close: func() { zr.Close() }}, nil
	case DecoderStd:
		cr := &countingReader{r: f}
		zr, err := stdgzip.NewReader(bufio.NewReaderSize(cr, 1<<20))
		if err != nil {
			return nil, headerError(err)
		}
		return &stream{r: zr, compressedPos: cr.pos, wait: func() error { return nil }, close: func() { zr.Close() }}, nil
	}
	return nil, fmt.Errorf("unknown decoder %q", decoder)
}

// headerError reports an empty file as truncated rather than a bare EOF.
func headerError(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// openIgzip runs "igzip -dc" with f as its standard input. The child shares
// f's file offset, which gives compressed progress for free.
func openIgzip(ctx context.Context, f *os.File) (*stream, error) {
	cmd := exec.CommandContext(ctx, igzipPath(), "-dc")
	cmd.Stdin = f
	stderr := &limitedBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start igzip: %w", err)
	}
	enlargePipe(out)
	var once sync.Once
	var waitErr error
	wait := func() error {
		once.Do(func() {
			if err := cmd.Wait(); err != nil {
				if ctx.Err() != nil {
					waitErr = ctx.Err()
					return
				}
				msg := strings.TrimSpace(stderr.String())
				msg = strings.ReplaceAll(msg, "(null)", "stdin")
				if msg != "" {
					waitErr = fmt.Errorf("igzip: %w: %s", err, msg)
				} else {
					waitErr = fmt.Errorf("igzip: %w", err)
				}
			}
		})
		return waitErr
	}
	return &stream{
		r: out,
		compressedPos: func() int64 {
			pos, _ := f.Seek(0, io.SeekCurrent)
			return pos
		},
		wait:  wait,
		child: cmd,
		close: func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
			}
			wait()
		},
	}, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) pos() int64 { return c.n }

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
