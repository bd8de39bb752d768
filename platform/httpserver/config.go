package httpserver

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"golang.org/x/net/http/httpguts"

	"minikart/platform/config"
	"minikart/platform/ratelimit"
)

// Config is the server section.
type Config struct {
	Host              string        `mapstructure:"host"`
	Port              int           `mapstructure:"port"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout"`
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	RequestTimeout    time.Duration `mapstructure:"request_timeout"`
	ShutdownTimeout   time.Duration `mapstructure:"shutdown_timeout"`
	MaxHeaderBytes    int           `mapstructure:"max_header_bytes"`
	// GCHeadroomBytes is how far the heap may grow past what the last
	// collection found live before the next one, at least, while the server
	// serves (see platform/gcheadroom); 0 leaves the collector to GOGC alone.
	GCHeadroomBytes int64 `mapstructure:"gc_headroom_bytes"`
	// MaxConnections caps the connections held at once, idle keep-alive
	// ones included; one over it is closed as soon as it is accepted.
	MaxConnections int `mapstructure:"max_connections"`
	// MaxConnectionsPerIP caps them per peer address as TCP sees it;
	// TrustedProxies are exempt, since a load balancer carries many clients.
	MaxConnectionsPerIP int `mapstructure:"max_connections_per_ip"`
	// TrustedProxies are the addresses (IPs or CIDRs) whose
	// X-Forwarded-For is believed; from anyone else it is ignored.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// PublicURL is the address clients reach the server by
	// ("https://shop.example"), for the absolute links answers hold; empty
	// takes it from each request (see Origin).
	PublicURL string `mapstructure:"public_url"`
	// PublicMetrics serves GET /metrics on this (public) listener as well as
	// on the admin listener. Off in production: the metrics carry business
	// figures (revenue, orders) and pool statistics.
	PublicMetrics bool `mapstructure:"public_metrics"`
	// PublicHealthDetails shows, on this listener's /readyz and /health,
	// what is wrong with each check (schema versions, file names) and each
	// check's information; without it they say only each check's state,
	// and the details are on the admin listener and in the log.
	PublicHealthDetails bool             `mapstructure:"public_health_details"`
	CORS                CORSConfig       `mapstructure:"cors"`
	RateLimit           ratelimit.Config `mapstructure:"rate_limit"`
}

// Ports is the public listener's port, which no other listener may share.
func (c Config) Ports() map[string]int { return map[string]int{"port": c.Port} }

// Check requires public_url in production: without it the links in answers
// (product images) take the scheme and host of each request, whose Host
// header any client chooses.
func (c Config) Check(env string) error {
	if env == config.Production && c.PublicURL == "" {
		return config.Invalid("public_url", "is required in production: the address clients reach the server by (https://shop.example), which the links in answers are built from; set MINIKART_SERVER_PUBLIC_URL")
	}
	return nil
}

// Validate checks ports and timeouts. Port 0 asks the kernel for a free port.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, config.Invalid("port", "must be between 0 and 65535, got %d", c.Port))
	}
	if c.RequestTimeout > 0 && c.WriteTimeout > 0 && c.RequestTimeout >= c.WriteTimeout {
		errs = append(errs, config.Invalid("request_timeout", "must be shorter than write_timeout (%s) so a timed-out request can still be answered", c.WriteTimeout))
	}
	_, bad := newProxyTrust(c.TrustedProxies)
	for _, i := range bad {
		errs = append(errs, config.Invalid(fmt.Sprintf("trusted_proxies[%d]", i), "%q is neither an IP address nor a CIDR", c.TrustedProxies[i]))
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || !validHost(u.Host) || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
		errs = append(errs, config.Invalid("public_url", "must be empty or an absolute http or https URL such as https://shop.example, got %q", c.PublicURL))
	}
	for i, o := range c.CORS.AllowedOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			errs = append(errs, config.Invalid(fmt.Sprintf("cors.allowed_origins[%d]", i), "%q is not an origin such as https://shop.example, or *", o))
		}
	}
	if c.CORS.AllowCredentials && slices.Contains(c.CORS.AllowedOrigins, "*") {
		errs = append(errs, config.Invalid("cors.allow_credentials", `cannot be true while allowed_origins has "*": list the origins that may send credentials`))
	}
	for _, h := range [...]struct {
		key   string
		names []string
	}{{"cors.allowed_headers", c.CORS.AllowedHeaders}, {"cors.exposed_headers", c.CORS.ExposedHeaders}} {
		for i, n := range h.names {
			if !httpguts.ValidHeaderFieldName(n) {
				errs = append(errs, config.Invalid(fmt.Sprintf("%s[%d]", h.key, i), "%q is not a header name", n))
			}
		}
	}
	errs = append(errs,
		c.RateLimit.Validate(),
		config.Positive("read_timeout", c.ReadTimeout),
		config.NonNegative("gc_headroom_bytes", c.GCHeadroomBytes),
		config.Positive("read_header_timeout", c.ReadHeaderTimeout),
		config.Positive("write_timeout", c.WriteTimeout),
		config.Positive("idle_timeout", c.IdleTimeout),
		config.Positive("request_timeout", c.RequestTimeout),
		config.Positive("shutdown_timeout", c.ShutdownTimeout),
		config.Positive("max_header_bytes", c.MaxHeaderBytes),
		config.Positive("max_connections", c.MaxConnections),
		config.Positive("max_connections_per_ip", c.MaxConnectionsPerIP),
	)
	return errors.Join(errs...)
}
