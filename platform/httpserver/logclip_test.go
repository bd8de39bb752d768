package httpserver

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/ratelimit"
)

// lockedBuffer collects log lines written by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLongRequestValuesAreClippedInTheLog sends, over one real connection,
// requests whose path or method is tens of kilobytes and that end as 431,
// 429, 404 and a logged 500 quoting the path: no log line grows with them,
// and each cut value says it was cut.
func TestLongRequestValuesAreClippedInTheLog(t *testing.T) {
	var logs lockedBuffer
	e, err := NewEngine(EngineParams{
		Config: Config{RequestTimeout: 5 * time.Second, MaxHeaderBytes: 16384,
			RateLimit: ratelimit.Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 4}},
		Log:        zerolog.New(&logs),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/fail/*rest", func(c *gin.Context) {
				_ = c.Error(errors.New("look up " + c.Param("rest")))
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	long := strings.Repeat("a", 15000)
	requests := []struct {
		line string
		want int
	}{
		{"GET /api/fail/" + long + " HTTP/1.1", http.StatusInternalServerError},
		{"GET /" + long + " HTTP/1.1", http.StatusNotFound},
		{"GET /" + strings.Repeat("b", 60000) + " HTTP/1.1", http.StatusRequestHeaderFieldsTooLarge},
		{strings.Repeat("M", 60000) + " / HTTP/1.1", http.StatusRequestHeaderFieldsTooLarge},
		{"GET /" + long + " HTTP/1.1", http.StatusTooManyRequests},
		{"GET /" + long + " HTTP/1.1", http.StatusTooManyRequests},
	}
	for i, r := range requests {
		if _, err := conn.Write([]byte(r.line + "\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != r.want {
			t.Fatalf("request %d = %d, want %d", i, res.StatusCode, r.want)
		}
	}
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(requests)+1 {
		t.Fatalf("%d log lines, want one a request and the 500's:\n%.2000s", len(lines), out)
	}
	for _, l := range lines {
		if len(l) > 1024 {
			t.Errorf("a %d-byte log line: %.300s…", len(l), l)
		}
		if !strings.Contains(l, "…(cut, ") {
			t.Errorf("a line that does not say what was cut: %.300s", l)
		}
	}
}

// TestNetHTTPReportsAreClipped: what net/http reports below the handlers
// is clipped like the request lines.
func TestNetHTTPReportsAreClipped(t *testing.T) {
	var logs lockedBuffer
	netHTTPLog(zerolog.New(&logs)).Printf("http: odd request %s", strings.Repeat("z", 20000))
	out := strings.TrimSpace(logs.String())
	if len(out) > 1024 || !strings.Contains(out, "…(cut, 20018 bytes)") || !strings.Contains(out, `"component":"net/http"`) {
		t.Errorf("net/http report logged as %d bytes: %.400s", len(out), out)
	}
}
