package admin

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{DefaultLimit: 50, MaxLimit: 500, ReportDays: 30, MaxReportDays: 366, MaxBodyBytes: 65536}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"the defaults", func(*Config) {}, ""},
		{"max_limit 0", func(c *Config) { c.MaxLimit = 0 }, "max_limit: must be between 1 and 1000"},
		{"default_limit over max_limit", func(c *Config) { c.DefaultLimit = 501 }, "default_limit: must be between 1 and max_limit (500)"},
		{"report_days over max_report_days", func(c *Config) { c.ReportDays = 400 }, "report_days: must be between 1 and max_report_days (366)"},
		{"no max_report_days", func(c *Config) { c.MaxReportDays = 0 }, "max_report_days: must be between 1 and 3660"},
		{"a tiny body limit", func(c *Config) { c.MaxBodyBytes = 10 }, "max_body_bytes: must be between 1024 and 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
