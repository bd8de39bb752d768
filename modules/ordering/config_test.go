package ordering

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
		{"ordering.max_items", 0, "ordering.max_items: must be between 1 and 10000, got 0"},
		{"ordering.max_items", 10001, "ordering.max_items: must be between 1 and 10000, got 10001"},
		{"ordering.max_quantity", 0, "ordering.max_quantity: must be between 1 and 1000000, got 0"},
		{"ordering.max_quantity", 1000001, "ordering.max_quantity: must be between 1 and 1000000, got 1000001"},
		{"ordering.max_body_bytes", 1023, "ordering.max_body_bytes: must be between 1024 and 67108864, got 1023"},
		{"ordering.max_body_bytes", 64<<20 + 1, "ordering.max_body_bytes: must be between 1024 and 67108864, got 67108865"},
		{"ordering.idempotency_ttl", "0s", "ordering.idempotency_ttl: must be greater than 0, got 0s"},
		{"ordering.idempotency_purge_interval", "0s", "ordering.idempotency_purge_interval: must be greater than 0, got 0s"},
		{"ordering.idempotency_purge_rate", 0, "ordering.idempotency_purge_rate: must be greater than 0, got 0"},
		{"ordering.rate_limit", map[string]any{"enabled": true, "requests_per_second": -1, "burst": 5}, "ordering.rate_limit.requests_per_second: must be greater than 0, got -1"},
		{"ordering.rate_limit", map[string]any{"enabled": true, "requests_per_second": 1, "burst": 0}, "ordering.rate_limit.burst: must be greater than 0, got 0"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			_, err := config.DecodeSection[Config](config.Test, "ordering", map[string]any{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("the test environment is valid", func(t *testing.T) {
		src, err := config.Load(config.Options{Env: config.Test})
		if err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := src.Decode("ordering", &c); err != nil || !c.RequireAPIKey {
			t.Errorf("config %+v, err %v", c, err)
		}
	})
}
