package httpserver

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"go.uber.org/fx/fxtest"
)

// framingServer runs the real server (listener, engine, error mapping) with
// POST /api/echo, which answers the body it read; served counts its calls.
func framingServer(t *testing.T) (addr string, served *atomic.Int64, logs *lockedBuffer, reg *prometheus.Registry) {
	t.Helper()
	served = new(atomic.Int64)
	logs = new(lockedBuffer)
	reg = prometheus.NewRegistry()
	cfg := Config{Host: "127.0.0.1", ReadTimeout: 5 * time.Second, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second,
		IdleTimeout: 5 * time.Second, RequestTimeout: 5 * time.Second, ShutdownTimeout: time.Second,
		MaxHeaderBytes: 16384, MaxConnections: 100, MaxConnectionsPerIP: 100}
	e, err := NewEngine(EngineParams{Config: cfg, Log: zerolog.New(logs), Registerer: reg,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.POST("/echo", func(c *gin.Context) {
				served.Add(1)
				body, _ := io.ReadAll(c.Request.Body)
				c.String(http.StatusOK, "%s", body)
			})
		})}})
	if err != nil {
		t.Fatal(err)
	}
	lc := fxtest.NewLifecycle(t)
	s, err := NewServer(lc, cfg, e, zerolog.New(logs), reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	return s.Addr(), served, logs, reg
}

// exchange writes raw to a new connection and reads every answer until
// the server closes it.
func exchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			if !isClosed(err) {
				t.Fatalf("after %d answers: %v (want the server to close)", len(out), err)
			}
			return out
		}
		body, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, res)
	}
}

func isClosed(err error) bool {
	return err == io.EOF || err == io.ErrUnexpectedEOF || strings.Contains(err.Error(), "connection reset")
}

func errorCodeOf(t *testing.T, res *http.Response) string {
	t.Helper()
	var body errorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.CorrelationID == "" {
		t.Fatalf("%d: not the JSON error body: %v", res.StatusCode, err)
	}
	return body.Error
}

const next = "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnext"

// TestContentLengthWithTransferEncodingIsRefusedAndClosed: a request with
// both (a smuggling attempt) gets 400 INVALID_FRAMING and the connection
// closes, so the request pipelined behind it is never served; a plain
// request before it on the same connection is served as usual.
func TestContentLengthWithTransferEncodingIsRefusedAndClosed(t *testing.T) {
	addr, served, _, _ := framingServer(t)
	smuggle := "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	for _, tt := range []struct {
		name, raw string
		before    int
	}{
		{"alone", smuggle + next, 0},
		{"after a plain request", next + smuggle + next, 1},
		{"header names in other cases", "POST /api/echo HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n" + next, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			served.Store(0)
			answers := exchange(t, addr, tt.raw)
			if len(answers) != tt.before+1 {
				t.Fatalf("%d answers, want %d and the connection closed", len(answers), tt.before+1)
			}
			for _, res := range answers[:tt.before] {
				if res.StatusCode != http.StatusOK {
					t.Errorf("the plain request = %d", res.StatusCode)
				}
			}
			last := answers[tt.before]
			if last.StatusCode != http.StatusBadRequest || errorCodeOf(t, last) != "INVALID_FRAMING" || !last.Close {
				t.Errorf("= %d close %t, want 400 INVALID_FRAMING and Connection: close", last.StatusCode, last.Close)
			}
			if n := served.Load(); n != int64(tt.before) {
				t.Errorf("the handler ran %d times, want %d", n, tt.before)
			}
		})
	}
}

// TestUnsupportedTransferEncodingAnswersJSON: net/http refuses a transfer
// coding other than chunked below the handlers; the client still gets the
// JSON error (501), and the request is logged and counted.
func TestUnsupportedTransferEncodingAnswersJSON(t *testing.T) {
	addr, served, logs, reg := framingServer(t)
	for _, te := range []string{"gzip", "chunked, gzip", "identity"} {
		answers := exchange(t, addr, "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "+te+"\r\n\r\n"+next)
		if len(answers) != 1 {
			t.Fatalf("%s: %d answers, want 1 and the connection closed", te, len(answers))
		}
		res := answers[0]
		if res.StatusCode != http.StatusNotImplemented || res.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
			errorCodeOf(t, res) != "UNSUPPORTED_TRANSFER_ENCODING" {
			t.Errorf("%s: %d %s, want a JSON 501 UNSUPPORTED_TRANSFER_ENCODING", te, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if n := served.Load(); n != 0 {
		t.Errorf("the handler ran %d times", n)
	}
	if n := strings.Count(logs.String(), `"status":501`); n != 3 {
		t.Errorf("%d request lines with status 501, want 3:\n%s", n, logs.String())
	}
	want := "\n# HELP http_requests_total HTTP requests by method, route template and status.\n# TYPE http_requests_total counter\n" +
		`http_requests_total{method="POST",route="/api/echo",status="501"} 3` + "\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestChunkedRequestsAreServedThenClosed: a chunked body is served, and
// the connection closes after it (the next head is not checked, so it is
// not read); requests framed by Content-Length keep the connection.
func TestChunkedRequestsAreServedThenClosed(t *testing.T) {
	addr, _, _, _ := framingServer(t)
	chunked := "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
	answers := exchange(t, addr, next+next+chunked+next)
	if len(answers) != 3 {
		t.Fatalf("%d answers, want 3 and the connection closed after the chunked one", len(answers))
	}
	for i, want := range []string{"next", "next", "body"} {
		body, _ := io.ReadAll(answers[i].Body)
		if answers[i].StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("answer %d = %d %q, want 200 %q", i, answers[i].StatusCode, body, want)
		}
	}
	if answers[1].Close || !answers[2].Close {
		t.Errorf("close: %t %t, want only the chunked answer to close", answers[1].Close, answers[2].Close)
	}
}
