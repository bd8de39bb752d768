package httpserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// capServer serves 204 behind the caps of c on a loopback port.
func capServer(t *testing.T, c Config, logs io.Writer) (addr string, m *connMetrics) {
	t.Helper()
	m, err := newConnMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(limitListener{Listener: ln, limits: newConnLimits(c, m, zerolog.New(logs))}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), m
}

// served opens a keep-alive connection and reports whether it is answered;
// the connection stays open when it is.
func served(t *testing.T, addr string) (net.Conn, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		c.Close()
		return nil, false
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, false
	}
	res.Body.Close()
	return c, res.StatusCode == http.StatusNoContent
}

// servedSoon retries served while a closed connection's slot is freed.
func servedSoon(t *testing.T, addr string) net.Conn {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, ok := served(t, addr); ok {
			return c
		}
	}
	t.Fatal("no slot freed after a connection closed")
	return nil
}

// TestConnectionsOverThePerIPCapAreClosed holds the cap's worth of
// keep-alive connections from one address: more are closed unanswered,
// counted each and logged once, and closing one frees its slot.
func TestConnectionsOverThePerIPCapAreClosed(t *testing.T) {
	var logs lockedBuffer
	addr, m := capServer(t, Config{MaxConnections: 100, MaxConnectionsPerIP: 2}, &logs)
	var held []net.Conn
	for range 2 {
		c, ok := served(t, addr)
		if !ok {
			t.Fatal("a connection within the cap was not served")
		}
		held = append(held, c)
	}
	for range 5 {
		if c, ok := served(t, addr); ok {
			c.Close()
			t.Fatal("a third connection from one address was served")
		}
	}
	if got := testutil.ToFloat64(m.refused.WithLabelValues(overPerIP)); got != 5 {
		t.Errorf("refused %v by max_connections_per_ip, want 5", got)
	}
	if n := strings.Count(logs.String(), "connection refused"); n != 1 {
		t.Errorf("%d log lines for 5 refusals, want 1:\n%s", n, logs.String())
	}
	held[0].Close()
	servedSoon(t, addr).Close()
	held[1].Close()
}

// TestTrustedProxiesAreExemptFromThePerIPCap: a trusted proxy holds more
// than the per-address cap, up to max_connections, whose slots its closed
// connections free.
func TestTrustedProxiesAreExemptFromThePerIPCap(t *testing.T) {
	addr, m := capServer(t, Config{MaxConnections: 3, MaxConnectionsPerIP: 1, TrustedProxies: []string{"127.0.0.1"}}, io.Discard)
	var held []net.Conn
	for range 3 {
		c, ok := served(t, addr)
		if !ok {
			t.Fatal("a trusted proxy's connection within max_connections was not served")
		}
		held = append(held, c)
	}
	if c, ok := served(t, addr); ok {
		c.Close()
		t.Fatal("a connection over max_connections was served")
	}
	if got := testutil.ToFloat64(m.refused.WithLabelValues(overTotal)); got != 1 {
		t.Errorf("refused %v by max_connections, want 1", got)
	}
	for _, c := range held {
		c.Close()
	}
	servedSoon(t, addr).Close()
}
