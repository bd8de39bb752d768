package admin

import (
	"errors"

	"minikart/platform/config"
)

// Config is the admin_api section.
type Config struct {
	// DefaultLimit is the page size of GET /api/admin/orders without limit.
	DefaultLimit int `mapstructure:"default_limit"`
	// MaxLimit caps its limit query parameter.
	MaxLimit int `mapstructure:"max_limit"`
	// ReportDays is the range of a report without from: the last this many
	// days.
	ReportDays int `mapstructure:"report_days"`
	// MaxReportDays caps the range of a report, so its cost stays bounded
	// as orders accumulate.
	MaxReportDays int `mapstructure:"max_report_days"`
	// MaxBodyBytes caps the body of PUT /api/admin/products/{productId}.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
}

// Validate checks the bounds.
func (c Config) Validate() error {
	var errs []error
	if c.MaxLimit < 1 || c.MaxLimit > 1000 {
		errs = append(errs, config.Invalid("max_limit", "must be between 1 and 1000, got %d", c.MaxLimit))
	}
	if c.DefaultLimit < 1 || c.DefaultLimit > c.MaxLimit {
		errs = append(errs, config.Invalid("default_limit", "must be between 1 and max_limit (%d), got %d", c.MaxLimit, c.DefaultLimit))
	}
	if c.MaxReportDays < 1 || c.MaxReportDays > 3660 {
		errs = append(errs, config.Invalid("max_report_days", "must be between 1 and 3660, got %d", c.MaxReportDays))
	}
	if c.ReportDays < 1 || c.ReportDays > c.MaxReportDays {
		errs = append(errs, config.Invalid("report_days", "must be between 1 and max_report_days (%d), got %d", c.MaxReportDays, c.ReportDays))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<20 {
		errs = append(errs, config.Invalid("max_body_bytes", "must be between 1024 and 1048576, got %d", c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}
