// Package ratelimit limits request rates per key (a client IP, an api key)
// with token buckets. Limits are per instance: N instances behind a load
// balancer admit up to N times the configured rate.
package ratelimit

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"minikart/platform/apperr"
	"minikart/platform/config"
)

// Config is one limit: a sustained rate and a burst, per key.
type Config struct {
	Enabled           bool    `mapstructure:"enabled"`
	RequestsPerSecond float64 `mapstructure:"requests_per_second"`
	Burst             int     `mapstructure:"burst"`
}

// Validate checks the rate and burst of an enabled limit.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	return errors.Join(
		config.Positive("rate_limit.requests_per_second", c.RequestsPerSecond),
		config.Positive("rate_limit.burst", c.Burst),
	)
}

// ErrRateLimited is answered with 429 and a Retry-After header.
var ErrRateLimited = apperr.New(apperr.RateLimited, "RATE_LIMITED", "too many requests, retry later")

// idleAfter is how long an unused bucket is kept; a full bucket carries no
// state, so forgetting it changes nothing.
const idleAfter = 3 * time.Minute

type entry struct {
	lim  *rate.Limiter
	last time.Time
}

// Limiter holds one token bucket per key.
type Limiter struct {
	cfg       Config
	mu        sync.Mutex
	buckets   map[string]*entry
	lastSweep time.Time
	now       func() time.Time
}

// New returns a limiter for cfg.
func New(cfg Config) *Limiter {
	return &Limiter{cfg: cfg, buckets: map[string]*entry{}, now: time.Now}
}

// Allow takes a token for key. When none is left it reports how long until
// one is, and takes nothing.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, e := range l.buckets {
			if now.Sub(e.last) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	e, found := l.buckets[key]
	if !found {
		e = &entry{lim: rate.NewLimiter(rate.Limit(l.cfg.RequestsPerSecond), l.cfg.Burst)}
		l.buckets[key] = e
	}
	e.last = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Middleware limits requests by the key keyOf returns; an empty key is not
// limited. Over the limit the answer is 429 RATE_LIMITED with Retry-After.
func Middleware(cfg Config, keyOf func(*gin.Context) string) gin.HandlerFunc {
	if !cfg.Enabled {
		return func(c *gin.Context) { c.Next() }
	}
	l := New(cfg)
	return func(c *gin.Context) {
		key := keyOf(c)
		if key == "" {
			c.Next()
			return
		}
		if ok, wait := l.Allow(key); !ok {
			_ = c.Error(ErrRateLimited.WithRetryAfter(int(math.Ceil(wait.Seconds()))))
			c.Header("X-RateLimit-Limit", strconv.FormatFloat(cfg.RequestsPerSecond, 'f', -1, 64))
			c.Abort()
			return
		}
		c.Next()
	}
}
