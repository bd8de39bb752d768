package catalog

import (
	"errors"
	"net/url"
	"time"

	"minikart/platform/config"
)

// Config is the catalog section.
type Config struct {
	// ImageBaseURL prefixes every product image path (a CDN holding a copy
	// of /api/images); empty serves them from this server.
	ImageBaseURL string `mapstructure:"image_base_url"`
	// MaxLimit caps the limit query parameter of GET /product.
	MaxLimit int `mapstructure:"max_limit"`
	// CacheTTL lets catalogue reads be served from memory up to this old;
	// 0 reads the database every time. Order prices never come from it.
	CacheTTL time.Duration `mapstructure:"cache_ttl"`
	// MaxImageBytes caps a picture, from an import file or an upload.
	MaxImageBytes int64 `mapstructure:"max_image_bytes"`
}

// Validate checks the image base URL, the page limit, the cache's age and
// the picture size.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.ImageBaseURL); c.ImageBaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, config.Invalid("image_base_url", "must be empty (served here) or an absolute http or https URL, got %q", c.ImageBaseURL))
	}
	if c.MaxLimit < 1 || c.MaxLimit > 1000 {
		errs = append(errs, config.Invalid("max_limit", "must be between 1 and 1000, got %d", c.MaxLimit))
	}
	if c.CacheTTL < 0 || c.CacheTTL > time.Hour {
		errs = append(errs, config.Invalid("cache_ttl", "must be between 0 (off) and 1h, got %s", c.CacheTTL))
	}
	if c.MaxImageBytes < 1024 || c.MaxImageBytes > 16<<20 {
		errs = append(errs, config.Invalid("max_image_bytes", "must be between 1024 and 16777216 (16 MiB), got %d", c.MaxImageBytes))
	}
	return errors.Join(errs...)
}
