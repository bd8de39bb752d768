package httpserver

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestOrigin(t *testing.T) {
	trust, bad := newProxyTrust([]string{"10.0.0.0/8", "192.0.2.7", "::1"})
	if len(bad) != 0 {
		t.Fatalf("bad entries %v", bad)
	}
	tests := []struct {
		name    string
		public  string
		remote  string
		host    string
		tls     bool
		headers map[string]string
		want    string
	}{
		{"the request's own host", "", "203.0.113.5:4000", "shop.example:8080", false, nil, "http://shop.example:8080"},
		{"TLS makes it https", "", "203.0.113.5:4000", "shop.example", true, nil, "https://shop.example"},
		{"public_url wins", "https://kart.example/base", "10.1.1.1:1", "internal:8080", false,
			map[string]string{"X-Forwarded-Host": "evil.example"}, "https://kart.example/base"},
		{"forwarded headers from a trusted proxy", "", "10.2.3.4:5555", "app:8080", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example"}, "https://shop.example"},
		{"a trusted single IP and IPv6", "", "[::1]:5555", "app:8080", false,
			map[string]string{"X-Forwarded-Proto": "HTTPS"}, "https://app:8080"},
		{"the first of a chain of forwarded values", "", "192.0.2.7:1", "app", false,
			map[string]string{"X-Forwarded-Host": "shop.example, inner.example", "X-Forwarded-Proto": "https, http"}, "https://shop.example"},
		{"forwarded headers from anyone else are ignored", "", "203.0.113.5:4000", "shop.example", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, "http://shop.example"},
		{"a forwarded host with odd characters is ignored", "", "10.0.0.1:1", "shop.example", false,
			map[string]string{"X-Forwarded-Host": `evil.example/"><script>`}, "http://shop.example"},
		{"a forwarded scheme other than http(s) is ignored", "", "10.0.0.1:1", "shop.example", false,
			map[string]string{"X-Forwarded-Proto": "javascript"}, "http://shop.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/widget", nil)
			r.RemoteAddr, r.Host = tt.remote, tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			o := originResolver{public: tt.public, trust: trust}
			if got := o.of(r); got != tt.want {
				t.Errorf("origin = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProxyTrustFeedsGinTheSameNetworks(t *testing.T) {
	trust, bad := newProxyTrust([]string{"10.0.0.0/8", "192.0.2.7", "::1", "nonsense"})
	if len(bad) != 1 || bad[0] != 3 {
		t.Fatalf("bad = %v, want [3]", bad)
	}
	got := trust.cidrs()
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128"}
	if len(got) != len(want) {
		t.Fatalf("cidrs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cidrs[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}
