package db

import (
	"fmt"
	"strings"
	"testing"

	"minikart/platform/config"
)

const goodURL = "postgres://app:s3cret@127.0.0.1:5432/minikart"

func decodeDatabase(t *testing.T, overrides map[string]any) error {
	t.Helper()
	all := map[string]any{"database.url": goodURL}
	for k, v := range overrides {
		all[k] = v
	}
	src, err := config.Load(config.Options{Env: config.Test, Overrides: all})
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	return src.Decode("database", &c)
}

func TestConfigRejectsEveryBadKey(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"database.url", "", "database.url: is required"},
		{"database.url", "postgres://app:s3cret@db:notaport/minikart", "database.url: is not a valid PostgreSQL URL"},
		{"database.read_url", "postgres://app:s3cret@db:notaport/minikart", "database.read_url: is not a valid PostgreSQL URL"},
		{"database.max_conns", 0, "database.max_conns: must be at least 1, got 0"},
		{"database.min_conns", -1, "database.min_conns: must be between 0 and max_conns (16), got -1"},
		{"database.min_conns", 17, "database.min_conns: must be between 0 and max_conns (16), got 17"},
		{"database.max_conn_lifetime", "0s", "database.max_conn_lifetime: must be greater than 0, got 0s"},
		{"database.max_conn_idle_time", "0s", "database.max_conn_idle_time: must be greater than 0, got 0s"},
		{"database.connect_timeout", "-1s", "database.connect_timeout: must be greater than 0, got -1s"},
		{"database.start_deadline", "0s", "database.start_deadline: must be greater than 0, got 0s"},
		{"database.jit", "false", `database.jit: must be one of ["" "on" "off"], got "false"`},
		{"database.plan_cache_mode", "generic", `database.plan_cache_mode: must be one of ["" "auto" "force_generic_plan" "force_custom_plan"], got "generic"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			err := decodeDatabase(t, map[string]any{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("err shows the password: %v", err)
			}
		})
	}
}

func TestConfigAcceptsGoodValues(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
	}{
		{"the defaults with a URL", nil},
		{"min_conns 0", map[string]any{"database.min_conns": 0}},
		{"min_conns equal to max_conns", map[string]any{"database.min_conns": 16}},
		{"a keyword/value DSN", map[string]any{"database.url": "host=127.0.0.1 user=app dbname=minikart"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := decodeDatabase(t, tt.overrides); err != nil {
				t.Error(err)
			}
		})
	}
}
