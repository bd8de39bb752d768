package log

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
		{"log.level", "loud", `log.level: "loud" is not one of trace, debug, info, warn, error`},
		{"log.level", "INFO", `log.level: "INFO" is not one of trace, debug, info, warn, error`},
		{"log.format", "xml", `log.format: "xml" is not one of json, console`},
		{"log.flush_interval", "2s", `log.flush_interval: must be between 0s and 1s, got 2s`},
		{"log.flush_interval", "-1s", `log.flush_interval: must be between 0s and 1s, got -1s`},
		{"log.buffer_bytes", 100, `log.buffer_bytes: must be between 4096 and 67108864, got 100`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			_, err := config.DecodeSection[Config](config.Test, "log", map[string]any{tt.key: tt.value})
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
		if err := src.Decode("log", &c); err != nil {
			t.Error(err)
		}
	})
}
