package httpserver

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// APIPath is the public contract's base path, under which every module's
// routes are mounted.
const APIPath = "/api"

type originKey struct{}

// Origin returns the scheme://host (and path prefix) that the client of the
// request in ctx addressed the server by, so that an answer can hold
// absolute links back to it: server.public_url when set, else the request's
// own scheme and Host, with X-Forwarded-Proto and X-Forwarded-Host believed
// only from server.trusted_proxies. It is empty outside a request.
func Origin(ctx context.Context) string {
	// Asked of the request's scope directly, the string is not boxed.
	if rs, ok := ctx.Value(scopeKey{}).(*requestScope); ok {
		return rs.origins.of(rs.req)
	}
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

// WithOrigin returns ctx carrying origin, as the server's middleware sets
// it; tests and commands use it to render links outside a request.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// proxyTrust decides which peers' forwarded headers are believed. It is the
// rule gin applies to X-Forwarded-For, built from the same list.
type proxyTrust []*net.IPNet

// newProxyTrust parses IPs and CIDRs; bad ones are reported by index.
func newProxyTrust(list []string) (proxyTrust, []int) {
	var t proxyTrust
	var bad []int
	for i, p := range list {
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil {
				bits := 128
				if ip.To4() != nil {
					ip, bits = ip.To4(), 32
				}
				t = append(t, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
				continue
			}
			bad = append(bad, i)
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			bad = append(bad, i)
			continue
		}
		t = append(t, n)
	}
	return t, bad
}

// cidrs lists the trusted networks in the form gin takes.
func (t proxyTrust) cidrs() []string {
	out := make([]string, len(t))
	for i, n := range t {
		out[i] = n.String()
	}
	return out
}

// trustsIP reports whether ip is one of the trusted proxies.
func (t proxyTrust) trustsIP(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, n := range t {
		if n.Contains(ip.AsSlice()) {
			return true
		}
	}
	return false
}

func (t proxyTrust) trusts(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && t.trustsIP(ip.Unmap())
}

// originResolver computes a request's origin once per request.
type originResolver struct {
	public string
	trust  proxyTrust
}

func (o originResolver) of(r *http.Request) string {
	if o.public != "" {
		return o.public
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if o.trust.trusts(r.RemoteAddr) {
		if p := firstForwarded(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstForwarded(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		// An HTTP/1.0 request may name no host: link to the address it
		// reached instead.
		host = ""
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}

// firstForwarded is the first (client-side) value of a forwarded header
// that a chain of proxies may have appended to.
func firstForwarded(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(v))
}

// validHost accepts a host name or IP with an optional port, in the
// characters that need no escaping anywhere a link is written.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']'
		if !ok {
			return false
		}
	}
	return true
}
