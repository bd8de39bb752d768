package catalog

import (
	"fmt"
	"strings"
	"testing"

	"minikart/platform/config"
)

func TestConfigRejectsEveryBadKey(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"catalog.image_base_url", "/public", `catalog.image_base_url: must be empty (served here) or an absolute http or https URL, got "/public"`},
		{"catalog.image_base_url", "ftp://images.example/public", "catalog.image_base_url: must be empty (served here) or an absolute http or https URL"},
		{"catalog.image_base_url", "https://", "catalog.image_base_url: must be empty (served here) or an absolute http or https URL"},
		{"catalog.max_limit", 0, "catalog.max_limit: must be between 1 and 1000, got 0"},
		{"catalog.max_limit", 1001, "catalog.max_limit: must be between 1 and 1000, got 1001"},
		{"catalog.cache_ttl", "-1s", "catalog.cache_ttl: must be between 0 (off) and 1h, got -1s"},
		{"catalog.cache_ttl", "2h", "catalog.cache_ttl: must be between 0 (off) and 1h, got 2h0m0s"},
		{"catalog.max_image_bytes", 1023, "catalog.max_image_bytes: must be between 1024 and 16777216 (16 MiB), got 1023"},
		{"catalog.max_image_bytes", 16<<20 + 1, "catalog.max_image_bytes: must be between 1024 and 16777216 (16 MiB), got 16777217"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			_, err := config.DecodeSection[Config](config.Test, "catalog", map[string]any{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("the defaults are valid", func(t *testing.T) {
		src, err := config.Load(config.Options{Env: config.Test})
		if err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := src.Decode("catalog", &c); err != nil || c.MaxLimit != 1000 || c.MaxImageBytes != 2<<20 {
			t.Errorf("config %+v, err %v", c, err)
		}
	})
}
