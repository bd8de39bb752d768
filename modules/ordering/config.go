package ordering

import (
	"errors"
	"slices"
	"strings"
	"time"

	"minikart/platform/config"
	"minikart/platform/ratelimit"
)

// Config is the ordering section.
type Config struct {
	// APIKeys lists the accepted api_key values; several allow rotation
	// without downtime. Secrets: set them through the environment.
	APIKeys      []string `mapstructure:"api_keys"`
	MaxItems     int      `mapstructure:"max_items"`
	MaxQuantity  int      `mapstructure:"max_quantity"`
	MaxBodyBytes int64    `mapstructure:"max_body_bytes"`
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration `mapstructure:"idempotency_ttl"`
	// IdempotencyPurgeInterval is how often expired keys are deleted.
	IdempotencyPurgeInterval time.Duration `mapstructure:"idempotency_purge_interval"`
	// RateLimit applies per api key to the order routes.
	RateLimit ratelimit.Config `mapstructure:"rate_limit"`
}

// demoKeys are api keys published with the project (the development and
// test configurations, the README): anyone can send them.
var demoKeys = []string{"apitest"}

// Check warns when production accepts a published demo key.
func (c Config) Check(env string) error {
	if env != config.Production {
		return nil
	}
	var errs []error
	for _, k := range c.APIKeys {
		if slices.Contains(demoKeys, strings.TrimSpace(k)) {
			errs = append(errs, config.Warn("api_keys", "production accepts the published demo key %q: anyone can place orders with it; set a secret key through MINIKART_ORDERING_API_KEYS or API_KEY", strings.TrimSpace(k)))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the keys and limits.
func (c Config) Validate() error {
	var errs []error
	keys := 0
	for _, k := range c.APIKeys {
		if strings.TrimSpace(k) != "" {
			keys++
		}
	}
	if keys == 0 {
		errs = append(errs, config.Invalid("api_keys", "at least one api key is required (set MINIKART_ORDERING_API_KEYS or API_KEY)"))
	}
	if c.MaxItems < 1 || c.MaxItems > 10000 {
		errs = append(errs, config.Invalid("max_items", "must be between 1 and 10000, got %d", c.MaxItems))
	}
	if c.MaxQuantity < 1 || c.MaxQuantity > 1_000_000 {
		errs = append(errs, config.Invalid("max_quantity", "must be between 1 and 1000000, got %d", c.MaxQuantity))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, config.Invalid("max_body_bytes", "must be between 1024 and 67108864, got %d", c.MaxBodyBytes))
	}
	errs = append(errs,
		c.RateLimit.Validate(),
		config.Positive("idempotency_ttl", c.IdempotencyTTL),
		config.Positive("idempotency_purge_interval", c.IdempotencyPurgeInterval),
	)
	return errors.Join(errs...)
}
