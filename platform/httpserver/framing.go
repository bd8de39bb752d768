package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
)

// Framing verdicts on one request head, as the bytes net/http reads show
// it, for what net/http does not tell the handlers: it drops a
// Content-Length that comes with Transfer-Encoding, and it answers a
// transfer coding it does not support itself, in plain text.
const (
	framingOK = iota
	// framingClose: the request is served, then the connection closed: its
	// body is chunked (or its framing otherwise not followed here), so the
	// next request's head could not be checked.
	framingClose
	// framingConflict: both Content-Length and Transfer-Encoding (RFC 9112
	// §6.1), the shape of request smuggling: 400, then close.
	framingConflict
	// framingUnsupported: a Transfer-Encoding net/http refuses; it writes
	// its 501 itself, which the connection replaces with the JSON one.
	framingUnsupported
)

// maxFramingLine is how much of a header line the tracker keeps: enough for
// any Content-Length or Transfer-Encoding value worth reading.
const maxFramingLine = 256

// framing follows the requests on one connection through the bytes the
// server reads: it finds each head, notes how its body is framed, and
// skips a Content-Length body to find the next head. Once a head's framing
// is anything but plain, it stops, and that request is the connection's
// last (the handler closes it).
type framing struct {
	mu sync.Mutex
	// heads counts the heads seen; flagged is the index of the first one
	// whose verdict is not framingOK (the last one followed), or -1.
	heads, flagged, verdict int
	served                  int // requests handed to the handler so far
	stopped                 bool
	bodyLeft                int64
	inHead                  bool
	line                    []byte
	lineLen                 int
	// The current head: its request line (clipped) and framing headers.
	method, target []byte
	http10         bool
	cl, te         int
	length         int64 // the Content-Length, -1 when not a number
	teValue        []byte
}

func newFraming() *framing { return &framing{flagged: -1} }

// read takes the bytes the server just read.
func (f *framing) read(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(p) > 0 && !f.stopped {
		if f.bodyLeft > 0 {
			n := min(int64(len(p)), f.bodyLeft)
			f.bodyLeft -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := maxFramingLine - len(f.line); room > 0 {
			f.line = append(f.line, chunk[:min(room, len(chunk))]...)
		}
		f.lineLen += len(chunk)
		if i < 0 {
			return
		}
		p = p[i+1:]
		f.endLine()
	}
}

// endLine handles one complete line of a head.
func (f *framing) endLine() {
	line := bytes.TrimSuffix(f.line, []byte("\r"))
	long := f.lineLen > maxFramingLine
	f.line, f.lineLen = f.line[:0], 0
	if !f.inHead {
		f.inHead, f.cl, f.te, f.length = true, 0, 0, 0
		f.teValue = f.teValue[:0]
		f.method, f.target, f.http10 = f.method[:0], f.target[:0], false
		if m, rest, ok := bytes.Cut(line, []byte(" ")); ok {
			f.method = append(f.method[:0], m...)
			t, proto, _ := bytes.Cut(rest, []byte(" "))
			f.target = append(f.target[:0], t...)
			f.http10 = string(proto) == "HTTP/1.0"
		}
		return
	}
	if len(line) > 0 || long {
		name, value, _ := bytes.Cut(line, []byte(":"))
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			f.cl++
			if n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64); err == nil && n >= 0 && !long {
				f.length = n
			} else {
				f.length = -1
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			f.te++
			f.teValue = append(f.teValue[:0], bytes.TrimSpace(value)...)
			if long {
				f.teValue = nil
			}
		}
		return
	}
	// The blank line: the head is complete.
	f.inHead = false
	verdict := framingOK
	switch {
	case f.cl > 0 && f.te > 0:
		verdict = framingConflict
	case f.te > 0 && f.http10:
		// net/http ignores Transfer-Encoding on HTTP/1.0; RFC 9112 §6.1
		// says the framing is faulty: serve it, then close.
		verdict = framingClose
	case f.te == 1 && bytes.EqualFold(f.teValue, []byte("chunked")):
		verdict = framingClose
	case f.te > 0:
		verdict = framingUnsupported
	case f.length < 0:
		// A Content-Length net/http will refuse (and close).
		verdict = framingClose
	}
	if verdict != framingOK {
		f.flagged, f.verdict, f.stopped = f.heads, verdict, true
	} else {
		f.bodyLeft = f.length
	}
	f.heads++
}

// next is the verdict on the request the handler is about to serve.
func (f *framing) next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.served
	f.served++
	if i == f.flagged {
		return f.verdict
	}
	return framingOK
}

// unsupported reports, with its method and target, whether the head being
// answered by net/http itself is one with a transfer coding it refuses.
func (f *framing) unsupported() (method, target string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verdict != framingUnsupported || f.flagged != f.heads-1 {
		return "", "", false
	}
	return string(f.method), string(f.target), true
}

type framingKey struct{}

// framingContext gives each connection's requests its framing tracker.
func framingContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, framingKey{}, lc.framing)
	}
	return ctx
}

// framingCheck acts on the tracker's verdict on this request: a request
// whose body framing is not followed further is the connection's last, and
// one with conflicting or unsupported framing is answered with an error,
// before anything else reads it.
func framingCheck(c *gin.Context) {
	f, ok := c.Request.Context().Value(framingKey{}).(*framing)
	if !ok {
		c.Next()
		return
	}
	switch f.next() {
	case framingClose:
		c.Header("Connection", "close")
	case framingConflict:
		c.Header("Connection", "close")
		_ = c.Error(apperr.ErrInvalidFraming)
		c.Abort()
		return
	case framingUnsupported:
		c.Header("Connection", "close")
		_ = c.Error(apperr.ErrUnsupportedTransferEncoding)
		c.Abort()
		return
	}
	c.Next()
}

// netHTTP501 starts what net/http writes itself for a transfer coding it
// does not support, before any handler runs.
var netHTTP501 = []byte("HTTP/1.1 501 Not Implemented\r\n")

// answerBelow serves, through h, the request net/http refused for its
// transfer coding, marked so that framingCheck answers it: the client
// gets the JSON error every other answer has, and the request is logged
// and counted like any other. It returns the whole response to write.
func answerBelow(h http.Handler) func(method, target string, remote net.Addr) []byte {
	return func(method, target string, remote net.Addr) []byte {
		f := &framing{flagged: 0, verdict: framingUnsupported}
		ctx := context.WithValue(context.Background(), framingKey{}, f)
		req, err := http.NewRequestWithContext(ctx, method, target, http.NoBody)
		if err != nil {
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "/", http.NoBody)
		}
		req.RemoteAddr, req.RequestURI = remote.String(), target
		rec := &bufferedResponse{header: http.Header{}}
		h.ServeHTTP(rec, req)
		res := http.Response{StatusCode: rec.status, ProtoMajor: 1, ProtoMinor: 1, Header: rec.header,
			ContentLength: int64(rec.body.Len()), Body: io.NopCloser(&rec.body), Close: true}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		_ = res.Write(w)
		_ = w.Flush()
		return out.Bytes()
	}
}

// bufferedResponse holds an answer to write to the connection whole.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *bufferedResponse) Header() http.Header { return r.header }

func (r *bufferedResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *bufferedResponse) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
