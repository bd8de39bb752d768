package httpserver

import (
	"fmt"
	"strings"
	"testing"

	"minikart/platform/config"
)

func decodeServer(t *testing.T, overrides map[string]any) error {
	t.Helper()
	src, err := config.Load(config.Options{Env: config.Test, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	return src.Decode("server", &c)
}

func TestConfigRejectsEveryBadKey(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"server.port", -1, "server.port: must be between 0 and 65535, got -1"},
		{"server.port", 65536, "server.port: must be between 0 and 65535, got 65536"},
		{"server.read_timeout", "0s", "server.read_timeout: must be greater than 0, got 0s"},
		{"server.read_header_timeout", "-1s", "server.read_header_timeout: must be greater than 0, got -1s"},
		{"server.write_timeout", "0s", "server.write_timeout: must be greater than 0, got 0s"},
		{"server.idle_timeout", "0s", "server.idle_timeout: must be greater than 0, got 0s"},
		{"server.request_timeout", "0s", "server.request_timeout: must be greater than 0, got 0s"},
		{"server.request_timeout", "15s", "server.request_timeout: must be shorter than write_timeout (15s)"},
		{"server.shutdown_timeout", "0s", "server.shutdown_timeout: must be greater than 0, got 0s"},
		{"server.max_header_bytes", 0, "server.max_header_bytes: must be greater than 0, got 0"},
		{"server.gc_headroom_bytes", -1, "server.gc_headroom_bytes: must be 0 or more, got -1"},
		{"server.max_connections", 0, "server.max_connections: must be greater than 0, got 0"},
		{"server.max_connections_per_ip", -1, "server.max_connections_per_ip: must be greater than 0, got -1"},
		{"server.trusted_proxies", []string{"10.0.0.0/8", "proxy.local"}, `server.trusted_proxies[1]: "proxy.local" is neither an IP address nor a CIDR`},
		{"server.public_url", "shop.example", `server.public_url: must be empty or an absolute http or https URL such as https://shop.example, got "shop.example"`},
		{"server.public_url", "ftp://shop.example", `server.public_url: must be empty or an absolute http or https URL`},
		{"server.public_url", "https://shop.example/?x=1", `server.public_url: must be empty or an absolute http or https URL`},
		{"server.public_url", "https://sh<op>.example", `server.public_url: must be empty or an absolute http or https URL`},
		{"server.cors.allowed_origins", []string{"shop.example"}, `server.cors.allowed_origins[0]: "shop.example" is not an origin`},
		{"server.cors.allowed_origins", []string{"https://shop.example/cart"}, `server.cors.allowed_origins[0]: "https://shop.example/cart" is not an origin`},
		{"server.cors", map[string]any{"allowed_origins": []string{"*"}, "allow_credentials": true}, `server.cors.allow_credentials: cannot be true while allowed_origins has "*"`},
		{"server.cors.allowed_headers", []string{"X-Ok", "bad header"}, `server.cors.allowed_headers[1]: "bad header" is not a header name`},
		{"server.cors.exposed_headers", []string{"a:b"}, `server.cors.exposed_headers[0]: "a:b" is not a header name`},
		{"server.rate_limit", map[string]any{"enabled": true, "requests_per_second": 0, "burst": 10}, "server.rate_limit.requests_per_second: must be greater than 0, got 0"},
		{"server.rate_limit", map[string]any{"enabled": true, "requests_per_second": 5, "burst": 0}, "server.rate_limit.burst: must be greater than 0, got 0"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			err := decodeServer(t, map[string]any{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigAcceptsGoodValues(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
	}{
		{"the defaults", nil},
		{"port 0 picks a free port", map[string]any{"server.port": 0}},
		{"the highest port", map[string]any{"server.port": 65535}},
		{"any host", map[string]any{"server.host": "0.0.0.0"}},
		{"trusted proxies as IPs and CIDRs", map[string]any{"server.trusted_proxies": []string{"127.0.0.1", "10.0.0.0/8", "::1"}}},
		{"any origin", map[string]any{"server.cors.allowed_origins": []string{"*"}}},
		{"a public URL", map[string]any{"server.public_url": "https://shop.example"}},
		{"a public URL with a path prefix", map[string]any{"server.public_url": "https://shop.example:8443/kart/"}},
		{"exact origins", map[string]any{"server.cors.allowed_origins": []string{"https://shop.example", "http://localhost:3000/"}}},
		{"credentials with exact origins", map[string]any{"server.cors": map[string]any{"allowed_origins": []string{"https://shop.example"}, "allow_credentials": true}}},
		{"a disabled rate limit needs no numbers", map[string]any{"server.rate_limit": map[string]any{"enabled": false, "requests_per_second": 0, "burst": 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := decodeServer(t, tt.overrides); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestProductionRequiresThePublicURL(t *testing.T) {
	tests := []struct {
		env, publicURL, want string
	}{
		{config.Production, "", "public_url: is required in production: the address clients reach the server by (https://shop.example), which the links in answers are built from; set MINIKART_SERVER_PUBLIC_URL"},
		{config.Production, "https://shop.example", ""},
		{config.Development, "", ""},
		{config.Test, "", ""},
	}
	for _, tt := range tests {
		err := Config{PublicURL: tt.publicURL}.Check(tt.env)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("%s with public_url %q: %v, want %q", tt.env, tt.publicURL, err, tt.want)
		}
	}
}
