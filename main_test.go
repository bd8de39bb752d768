package main

import (
	"bytes"
	"os"
	"path/filepath"
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
		{[]string{"config", "print"}, 0, "auth.api_keys = ******"},
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

// runWith runs minikart args in development with env set, and returns the
// exit code and everything printed.
func runWith(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("MINIKART_ENV", "development")
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUnknownVariableStopsValidateAndServe(t *testing.T) {
	for _, cmd := range [][]string{{"config", "validate"}, {"serve"}} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			code, _, errOut := runWith(t, map[string]string{"MINIKART_SERVER_PROT": "9000", "MINIKART_SERVER_PORT": "0"}, cmd...)
			want := "MINIKART_SERVER_PROT is not a configuration variable; did you mean MINIKART_SERVER_PORT (server.port)?"
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
		})
	}
}

func TestWrongTypeIsReportedWithEveryOtherBadKey(t *testing.T) {
	code, _, errOut := runWith(t, map[string]string{
		"MINIKART_SERVER_PORT":         "abc",
		"MINIKART_DATABASE_MAX_CONNS":  "many",
		"MINIKART_LOG_LEVEL":           "loud",
		"MINIKART_CATALOG_CACHE_TTL":   "soon",
		"MINIKART_ADMIN_ENABLED":       "maybe",
		"MINIKART_ORDERING_MAX_ITEMS":  "0",
		"MINIKART_PROMO_RULES_DEFAULT": "x",
	}, "config", "validate")
	for _, want := range []string{
		`server.port: expected a whole number, got "abc"`,
		`database.max_conns: expected a whole number, got "many"`,
		`catalog.cache_ttl: expected a duration such as 500ms, 10s or 5m, got "soon"`,
		`admin.enabled: expected true or false, got "maybe"`,
		`log.level: "loud" is not one of debug, info, warn, error`,
		"ordering.max_items: must be between 1 and 10000, got 0",
		"MINIKART_PROMO_RULES_DEFAULT is not a configuration variable",
	} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q\nwant 1 and %q", code, errOut, want)
		}
	}
}

func TestEveryKeyIsSettableFromTheEnvironment(t *testing.T) {
	t.Run("a rule of one code", func(t *testing.T) {
		code, out, errOut := runWith(t, map[string]string{
			"MINIKART_PROMO_RULES_CODES_HAPPYHRS_MAX_REDEMPTIONS": "5",
			"MINIKART_PROMO_RULES_CODES_WEEKEND20_DISCOUNT":       "20%",
			"MINIKART_ORDERING_RATE_LIMIT_REQUESTS_PER_SECOND":    "7",
		}, "config", "print")
		for _, want := range []string{
			"promo.rules.codes.happyhrs.max_redemptions = 5",
			"promo.rules.codes.happyhrs.discount = 18%",
			"promo.rules.codes.weekend20.discount = 20%",
			"ordering.rate_limit.requests_per_second = 7",
		} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant 0 and %q", code, out, errOut, want)
			}
		}
	})
	t.Run("and validated like YAML", func(t *testing.T) {
		code, _, errOut := runWith(t, map[string]string{"MINIKART_PROMO_RULES_CODES_HAPPYHRS_MAX_REDEMPTIONS": "-1"}, "config", "validate")
		want := "promo.rules.codes.HAPPYHRS: max_redemptions must be 0 (unlimited) or more, got -1"
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	})
}

func TestValidateChecksWhatServeRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a missing coupon file", map[string]string{"MINIKART_PROMO_FILES": "data/coupons/couponbase1.gz,data/coupons/missing.gz"},
			`promo.files[1]: "data/coupons/missing.gz" cannot be read: no such file or directory`},
		{"a directory for a coupon file", map[string]string{"MINIKART_PROMO_FILES": "data/coupons/couponbase1.gz,data"},
			`promo.files[1]: "data" cannot be read: is a directory`},
		{"production without keys", map[string]string{"MINIKART_ENV": "production", "DATABASE_URL": "postgres://u@127.0.0.1:1/db"},
			"auth.api_keys: at least one api key is required"},
		{"production without a database", map[string]string{"MINIKART_ENV": "production", "API_KEY": "k"},
			"database.url: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runWith(t, tt.env, "config", "validate")
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
	t.Run("with every other problem", func(t *testing.T) {
		code, _, errOut := runWith(t, map[string]string{
			"MINIKART_PROMO_FILES": "data/coupons/couponbase1.gz,data/coupons/missing.gz",
			"MINIKART_SERVER_PROT": "1",
			"MINIKART_LOG_LEVEL":   "loud",
		}, "config", "validate")
		for _, want := range []string{"promo.files[1]", "MINIKART_SERVER_PROT", "log.level"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
		}
	})
	t.Run("an operator command runs before the files exist", func(t *testing.T) {
		dir := t.TempDir()
		code, _, errOut := runWith(t, map[string]string{"MINIKART_PROMO_FILES": dir + "/couponbase1.gz," + dir + "/couponbase2.gz"},
			"coupons", "generate", "--profile", "dense", "--scale", "0.00001", "--out", dir)
		if code != 0 {
			t.Errorf("coupons generate: exit %d, stderr %q", code, errOut)
		}
	})
}

func TestProductionWarnsAboutTheDemoKey(t *testing.T) {
	env := map[string]string{"MINIKART_ENV": "production", "DATABASE_URL": "postgres://u@127.0.0.1:1/db", "API_KEY": "secret-one,apitest"}
	code, out, errOut := runWith(t, env, "config", "validate")
	want := `warning: auth.api_keys: production accepts the published demo key "apitest"`
	if code != 0 || !strings.Contains(errOut, want) || !strings.Contains(out, "is valid") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, want)
	}
	env["API_KEY"] = "secret-one"
	if _, _, errOut := runWith(t, env, "config", "validate"); strings.Contains(errOut, "warning") {
		t.Errorf("a secret key warned: %q", errOut)
	}
}

func TestHelpListsContributedCommands(t *testing.T) {
	code, out, _ := runWith(t, nil, "help")
	for _, want := range []string{"serve", "config print|validate", "coupons generate|build|check", "migrate up|down|version", "healthcheck"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, help %q lacks %q", code, out, want)
		}
	}
	t.Run("with a broken configuration it says why the rest is missing", func(t *testing.T) {
		code, out, _ := runWith(t, map[string]string{"MINIKART_LOG_LEVEL": "loud"}, "help")
		if code != 0 || !strings.Contains(out, "config print|validate") || !strings.Contains(out, `log.level: "loud"`) {
			t.Errorf("exit %d, help %q", code, out)
		}
	})
	t.Run("a contributed command exits 2 on a broken configuration", func(t *testing.T) {
		code, _, errOut := runWith(t, map[string]string{"MINIKART_LOG_LEVEL": "loud"}, "coupons", "check", "HAPPYHRS")
		if code != 2 || !strings.Contains(errOut, `log.level: "loud"`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestMisspelledYAMLNamesTheClosestKey(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"default.yaml", "development.yaml"} {
		b, err := os.ReadFile(filepath.Join("configs", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "development.yaml" {
			b = append(b, "sever:\n  port: 8081\npromo:\n  min_fils: 1\n"...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := runWith(t, map[string]string{"MINIKART_CONFIG_DIR": dir}, "config", "validate")
	for _, want := range []string{"sever: unknown section; did you mean server?", "promo.min_fils: unknown key; did you mean promo.min_files?"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	}
}
