package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/config"
)

func load(t *testing.T, overrides map[string]any) *config.Source {
	t.Helper()
	all := map[string]any{"database.url": "postgres://app@127.0.0.1:5432/minikart"}
	for k, v := range overrides {
		all[k] = v
	}
	src, err := config.Load(config.Options{Env: config.Test, Overrides: all})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// build builds the platform's graph, as the application does, and returns
// its error.
func build(src *config.Source) error {
	return fx.New(fx.NopLogger, Options(src)).Err()
}

func TestAppConfigRejectsEveryBadKey(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"app.start_timeout", "0s", "app.start_timeout: must be greater than 0, got 0s"},
		{"app.stop_timeout", "-5s", "app.stop_timeout: must be greater than 0, got -5s"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			err := build(load(t, map[string]any{tt.key: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("the defaults are valid", func(t *testing.T) {
		if err := build(load(t, nil)); err != nil {
			t.Error(err)
		}
	})
}

func TestGraphReportsEverySectionAtOnce(t *testing.T) {
	err := build(load(t, map[string]any{
		"app.start_timeout":  "0s",
		"log.level":          "loud",
		"database.max_conns": 0,
	}))
	for _, want := range []string{"app.start_timeout", "database.max_conns", "log.level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func TestChecksLogTheWarningsAtStart(t *testing.T) {
	var buf bytes.Buffer
	err := fx.New(fx.NopLogger,
		fx.Supply(config.Report{Warnings: []string{`auth.keys: the demo key "k"`}}, zerolog.New(&buf)),
		Checks,
	).Err()
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]string
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["level"] != "warn" || line["component"] != "config" || line["message"] != `auth.keys: the demo key "k"` {
		t.Errorf("logged %q", buf.String())
	}
}
