package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/fx"

	"minikart/platform"
	"minikart/platform/config"
)

// TestGraphIsComplete catches wiring mistakes without a database: every
// constructor's dependencies must be provided.
func TestGraphIsComplete(t *testing.T) {
	for _, env := range []string{config.Development, config.Test} {
		src, err := config.Load(config.Options{Env: env, Overrides: map[string]any{
			"database.url": "postgres://u@127.0.0.1:1/db",
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.ValidateApp(appOptions(src), platform.Checks); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"help"}, 0, "usage: minikart"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"migrate"}, 1, "usage: minikart migrate"},
		{[]string{"config", "print"}, 0, "ordering.api_keys = ******"},
		{[]string{"config", "validate"}, 0, "is valid"},
		{[]string{"config", "explode"}, 1, "unknown config command"},
	}
	t.Setenv("MINIKART_ENV", "development")
	t.Setenv("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/db")
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		all := out.String() + errOut.String()
		if code != tt.code || !strings.Contains(all, tt.contains) {
			t.Errorf("run(%v) = %d, %q; want %d containing %q", tt.args, code, all, tt.code, tt.contains)
		}
		if strings.Contains(all, "s3cret") {
			t.Errorf("run(%v) printed the database password", tt.args)
		}
	}
}

func TestConfigValidateNamesBadKeys(t *testing.T) {
	t.Setenv("MINIKART_ENV", "development")
	t.Setenv("MINIKART_LOG_LEVEL", "loud")
	t.Setenv("MINIKART_PROMO_LOAD", "lazy")
	var out, errOut bytes.Buffer
	if code := run([]string{"config", "validate"}, &out, &errOut); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	for _, want := range []string{`log.level: "loud" is not one of debug, info, warn, error`, `promo.load: "lazy" is not one of blocking, background`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("output %q lacks %q", errOut.String(), want)
		}
	}
}
