package catalog

import (
	"errors"
	"net/url"

	"minikart/platform/config"
)

// Config is the catalog section.
type Config struct {
	// ImageBaseURL prefixes every product image path.
	ImageBaseURL string `mapstructure:"image_base_url"`
	// MaxLimit caps the limit query parameter of GET /product.
	MaxLimit int `mapstructure:"max_limit"`
}

// Validate checks the image base URL and the page limit.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.ImageBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, config.Invalid("image_base_url", "must be an absolute http or https URL, got %q", c.ImageBaseURL))
	}
	if c.MaxLimit < 1 || c.MaxLimit > 1000 {
		errs = append(errs, config.Invalid("max_limit", "must be between 1 and 1000, got %d", c.MaxLimit))
	}
	return errors.Join(errs...)
}
