package httpserver

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/metrics"
)

// connLimits caps the connections the server holds: in total, and per peer
// address as TCP sees it (a trusted proxy, which carries many clients,
// exempt). A connection over a cap is closed as soon as it is accepted,
// before a byte is read, so an idle flood costs neither a goroutine nor a
// buffer; it is counted, and logged at most once a refusedLogEvery.
type connLimits struct {
	total, perIP int
	trust        proxyTrust
	mu           sync.Mutex
	open         int
	byIP         map[netip.Addr]int
	metrics      *connMetrics
	log          zerolog.Logger
	// answer, when set, answers a request net/http refused below the
	// handlers (see answerBelow).
	answer  func(method, target string, remote net.Addr) []byte
	lastLog atomic.Int64 // unix nanoseconds of the last refusal logged
}

// newConnLimits applies the server section's caps, exempting its trusted
// proxies from the per-address one.
func newConnLimits(c Config, m *connMetrics, log zerolog.Logger) *connLimits {
	trust, _ := newProxyTrust(c.TrustedProxies)
	return &connLimits{total: c.MaxConnections, perIP: c.MaxConnectionsPerIP, trust: trust,
		byIP: map[netip.Addr]int{}, metrics: m, log: log}
}

// refusedLogEvery spaces the log lines about refused connections: a flood
// is worth one line now and then, not one a connection.
const refusedLogEvery = 10 * time.Second

// Refusal reasons, the metric's only label values.
const (
	overTotal = "max_connections"
	overPerIP = "max_connections_per_ip"
)

type connMetrics struct {
	open    prometheus.Gauge
	refused *prometheus.CounterVec
}

func newConnMetrics(reg prometheus.Registerer) (*connMetrics, error) {
	m := &connMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_connections_open", Help: "Client connections the public listener holds.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_connections_refused_total",
			Help: "Client connections closed on accept because a cap was reached, by cap (max_connections, max_connections_per_ip).",
		}, []string{"cap"}),
	}
	// Both label values exist from the start, so a dashboard sees zeros.
	m.refused.WithLabelValues(overTotal)
	m.refused.WithLabelValues(overPerIP)
	return m, metrics.Register(reg, "http connections", m.open, m.refused)
}

// limitListener accepts through ln and closes what a cap refuses.
type limitListener struct {
	net.Listener
	limits *connLimits
}

// Accept returns the next connection within the caps; refused ones are
// closed here and never reach the server.
func (l limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc, ok := l.limits.admit(c); ok {
			return lc, nil
		}
	}
}

// admit takes a slot for c, or closes it.
func (cl *connLimits) admit(c net.Conn) (net.Conn, bool) {
	ip := peerIP(c)
	exempt := cl.trust.trustsIP(ip)
	cl.mu.Lock()
	reason := ""
	switch {
	case cl.open >= cl.total:
		reason = overTotal
	case !exempt && cl.byIP[ip] >= cl.perIP:
		reason = overPerIP
	default:
		cl.open++
		if !exempt {
			cl.byIP[ip]++
		}
	}
	cl.mu.Unlock()
	if reason != "" {
		// Counted before the close, so that whoever sees the connection
		// refused also finds it in the metric.
		cl.refused(reason, ip)
		_ = c.Close()
		return nil, false
	}
	cl.metrics.open.Inc()
	return &limitedConn{Conn: c, limits: cl, ip: ip, exempt: exempt, framing: newFraming()}, true
}

// release frees the slot a connection held.
func (cl *connLimits) release(ip netip.Addr, exempt bool) {
	cl.mu.Lock()
	cl.open--
	if !exempt {
		if n := cl.byIP[ip] - 1; n > 0 {
			cl.byIP[ip] = n
		} else {
			delete(cl.byIP, ip)
		}
	}
	cl.mu.Unlock()
	cl.metrics.open.Dec()
}

func (cl *connLimits) refused(reason string, ip netip.Addr) {
	cl.metrics.refused.WithLabelValues(reason).Inc()
	now := time.Now().UnixNano()
	last := cl.lastLog.Load()
	if now-last < int64(refusedLogEvery) || !cl.lastLog.CompareAndSwap(last, now) {
		return
	}
	cl.log.Warn().Str("cap", reason).Str("client_ip", ip.String()).Int("max_connections", cl.total).
		Int("max_connections_per_ip", cl.perIP).
		Msg("connection refused: cap reached (http_connections_refused_total counts every one; this line at most every 10s)")
}

// peerIP is the connection's remote address, IPv4 in IPv6 unmapped so one
// client counts once; the zero Addr when it is not an IP (a test pipe).
func peerIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// limitedConn gives its slot back when closed, once, and shows what the
// server reads to its framing tracker.
type limitedConn struct {
	net.Conn
	limits  *connLimits
	ip      netip.Addr
	exempt  bool
	once    sync.Once
	framing *framing
}

func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.framing.read(p[:n])
	return n, err
}

// Write replaces net/http's own plain-text 501 for a transfer coding it
// does not support with the answer the handlers give it.
func (c *limitedConn) Write(p []byte) (int, error) {
	if c.limits.answer != nil && bytes.HasPrefix(p, netHTTP501) {
		if method, target, ok := c.framing.unsupported(); ok {
			_, err := c.Conn.Write(c.limits.answer(method, target, c.RemoteAddr()))
			return len(p), err
		}
	}
	return c.Conn.Write(p)
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.limits.release(c.ip, c.exempt) })
	return err
}
