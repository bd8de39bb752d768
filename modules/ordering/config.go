package ordering

import (
	"errors"
	"time"

	"minikart/platform/config"
	"minikart/platform/ratelimit"
)

// Config is the ordering section.
type Config struct {
	// RequireAPIKey refuses POST /api/order without an api key (401); when
	// false such an order is placed anonymously. Reading an order always
	// takes the key that placed it.
	RequireAPIKey bool  `mapstructure:"require_api_key"`
	MaxItems      int   `mapstructure:"max_items"`
	MaxQuantity   int   `mapstructure:"max_quantity"`
	MaxBodyBytes  int64 `mapstructure:"max_body_bytes"`
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration `mapstructure:"idempotency_ttl"`
	// IdempotencyPurgeInterval is how often expired keys are deleted.
	IdempotencyPurgeInterval time.Duration `mapstructure:"idempotency_purge_interval"`
	// IdempotencyPurgeBatch bounds the keys one purge statement deletes.
	IdempotencyPurgeBatch int `mapstructure:"idempotency_purge_batch"`
	// IdempotencyPurgeRate bounds how many keys a second a backlog is
	// deleted at.
	IdempotencyPurgeRate int `mapstructure:"idempotency_purge_rate"`
	// RateLimit applies per api key id (per client IP for anonymous
	// orders) to the order routes.
	RateLimit ratelimit.Config `mapstructure:"rate_limit"`
}

// Validate checks the limits.
func (c Config) Validate() error {
	var errs []error
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
		config.Positive("idempotency_purge_batch", c.IdempotencyPurgeBatch),
		config.Positive("idempotency_purge_rate", c.IdempotencyPurgeRate),
	)
	return errors.Join(errs...)
}
