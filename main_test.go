package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform"
	"minikart/platform/apidoc"
	"minikart/platform/cli"
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
		if err := fx.ValidateApp(modules.Commands(src, config.Whole)); err != nil {
			t.Fatalf("%s, the commands' graph: %v", env, err)
		}
	}
}

// The operator commands' graph builds no engine, API document or server,
// which a command does not use: the server's graph does.
func TestCommandsBuildNoServer(t *testing.T) {
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"database.url": "postgres://u@127.0.0.1:1/db",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		graph func(*config.Source, ...fx.Option) fx.Option
		want  bool
	}{
		{"commands", modules.Commands, false},
		{"server", modules.App, true},
	} {
		built := false
		probe := fx.Decorate(func(d *apidoc.Document) *apidoc.Document { built = true; return d })
		var cs cli.Commands
		if err := fx.New(fx.NopLogger, tt.graph(src, probe), fx.Populate(&cs)).Err(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if built != tt.want {
			t.Errorf("%s' graph built the API document: %v, want %v", tt.name, built, tt.want)
		}
		if len(cs.All) == 0 {
			t.Errorf("%s' graph has no commands", tt.name)
		}
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"help"}, 0, "migrate force N"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate" for "minikart"`},
		{[]string{"migrate"}, 2, "minikart migrate needs a command: down, force, up, version"},
		{[]string{"migrate", "versoin"}, 2, "did you mean version?"},
		{[]string{"migrate", "force", "99"}, 2, "no migration 99; valid versions: 1 to "},
		{[]string{"migrate", "force", "x"}, 2, `"x" is not a version`},
		{[]string{"config", "print"}, 0, "auth.api_keys = ******"},
		{[]string{"config", "print"}, 0, "ordering.require_api_key = true"},
		{[]string{"config", "validate"}, 0, "is valid"},
		{[]string{"config", "explode"}, 2, `unknown command "explode" for "minikart config"`},
		{[]string{"completion", "bash"}, 0, "bash completion V2 for minikart"},
		{[]string{"completion", "zsh"}, 0, "#compdef minikart"},
		{[]string{"completion", "fish"}, 0, "fish completion for minikart"},
		{[]string{"catalog", "import"}, 2, "accepts 1 arg(s), received 0"},
		{[]string{"catalog", "export", "--format", "xml"}, 2, "xml"},
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

// commandPaths lists every command under root as the words after
// "minikart", with whether it runs by itself and whether it takes
// arguments.
func commandPaths(root *cobra.Command) (paths [][]string) {
	var visit func(c *cobra.Command, words []string)
	visit = func(c *cobra.Command, words []string) {
		for _, s := range c.Commands() {
			if s.Hidden {
				continue
			}
			w := append(slices.Clone(words), s.Name())
			paths = append(paths, w)
			visit(s, w)
		}
	}
	visit(root, nil)
	return paths
}

// TestEveryCommandFollowsTheConventions runs every command path with
// --help (exit 0, its usage on stdout), also when the configuration is
// broken, and with an unknown flag (exit 2, one line and a hint on stderr);
// a group with no subcommand or an unknown one, and a command given
// arguments it does not take, exit 2 too.
func TestEveryCommandFollowsTheConventions(t *testing.T) {
	root := newRoot([]string{"help"}, io.Discard)
	root.InitDefaultHelpCmd() // as cli.Execute does
	root.InitDefaultCompletionCmd()
	paths := commandPaths(root)
	want := map[string]bool{"catalog import": false, "catalog export": false, "coupons build": false, "coupons check": false,
		"coupons generate": false, "migrate up": false, "migrate down": false, "migrate version": false, "migrate force": false,
		"healthcheck": false, "serve": false, "config print": false, "config validate": false, "completion bash": false, "help": false}
	for _, p := range paths {
		delete(want, strings.Join(p, " "))
	}
	if len(want) > 0 {
		t.Fatalf("the tree lacks %v", want)
	}
	valid := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db"}
	broken := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db", "MINIKART_LOG_LEVEL": "loud"}
	for _, p := range paths {
		name := strings.Join(p, " ")
		for env, help := range map[string]string{"valid": "--help", "broken": "-h"} {
			e := valid
			if env == "broken" {
				e = broken
			}
			code, out, errOut := runWith(t, e, append(slices.Clone(p), help)...)
			if code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
				t.Errorf("%s %s (%s configuration): exit %d, stdout %q, stderr %q; want 0 and its usage", name, help, env, code, out, errOut)
			}
		}
		code, out, errOut := runWith(t, valid, append(slices.Clone(p), "--no-such-flag")...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || out != "" || len(lines) != 2 || lines[0] != "error: unknown flag: --no-such-flag" ||
			!strings.HasPrefix(lines[1], "run 'minikart ") {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want 2, one line and a hint", name, code, out, errOut)
		}
	}
	for _, group := range []string{"catalog", "config", "coupons", "migrate", "completion"} {
		for _, args := range [][]string{{group}, {group, "bogus"}} {
			if code, _, errOut := runWith(t, broken, args...); code != 2 || !strings.Contains(errOut, "run 'minikart "+group+" --help' for usage") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and the hint", args, code, errOut)
			}
		}
	}
	for _, args := range [][]string{{"serve", "extra"}, {"healthcheck", "extra"}, {"migrate", "up", "extra"}, {"coupons", "check"}, {"catalog", "import", "a", "b"}} {
		if code, _, errOut := runWith(t, valid, args...); code != 2 || !strings.Contains(errOut, "for usage") {
			t.Errorf("%v: exit %d, stderr %q; want 2", args, code, errOut)
		}
	}
}

// TestBuiltinConfigurationListsTheCommands keeps the configuration help
// falls back on valid, whatever the environment says.
func TestBuiltinConfigurationListsTheCommands(t *testing.T) {
	t.Setenv("MINIKART_LOG_LEVEL", "loud")
	t.Setenv("MINIKART_ENV", "production")
	t.Setenv("MINIKART_CONFIG_DIR", t.TempDir())
	cs, err := contributed(config.Options{Builtin: true}, io.Discard)
	if err != nil || len(cs) < 4 {
		t.Fatalf("%d commands, %v", len(cs), err)
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
	for _, want := range []string{`log.level: "loud" is not one of trace, debug, info, warn, error`, `promo.load: "lazy" is not one of blocking, background`} {
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
		`log.level: "loud" is not one of trace, debug, info, warn, error`,
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
		{"the admin listener on the server's port", map[string]string{"MINIKART_ADMIN_ENABLED": "true", "MINIKART_ADMIN_PORT": "8080", "MINIKART_SERVER_PORT": "8080"},
			"server.port: 8080 is also admin.port; each listener needs a port of its own"},
		{"production without a public URL", map[string]string{"MINIKART_ENV": "production", "API_KEY": "shop:k", "DATABASE_URL": "postgres://u@127.0.0.1:1/db"},
			"server.public_url: is required in production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runWith(t, tt.env, "config", "validate")
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
	t.Run("a configuration directory without the environment's file", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile(filepath.Join("configs", "default.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "default.yaml"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"config", "validate"}, {"serve"}} {
			code, _, errOut := runWith(t, map[string]string{"MINIKART_ENV": "production", "MINIKART_CONFIG_DIR": dir}, cmd...)
			want := dir + " (chosen by MINIKART_CONFIG_DIR) has no production.yaml"
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("%v: exit %d, stderr %q; want 1 and %q", cmd, code, errOut, want)
			}
		}
	})
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

func TestProductionRefusesTheDemoKey(t *testing.T) {
	env := map[string]string{"MINIKART_ENV": "production", "DATABASE_URL": "postgres://u@127.0.0.1:1/db",
		"MINIKART_SERVER_PUBLIC_URL": "https://shop.example", "API_KEY": "shop-web:secret-one,apitest"}
	code, _, errOut := runWith(t, env, "config", "validate")
	want := `auth.api_keys: key id "fp:`
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, `uses "apitest"`) || !strings.Contains(errOut, "MINIKART_AUTH_API_KEYS") {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
	env["API_KEY"] = "shop-web:secret-one"
	if code, out, errOut := runWith(t, env, "config", "validate"); code != 0 || !strings.Contains(out, "is valid") || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, valid, no warning", code, out, errOut)
	}
}

func TestHelpListsContributedCommands(t *testing.T) {
	code, out, _ := runWith(t, nil, "help")
	for _, want := range []string{"serve ", "config print ", "config validate ", "coupons generate ", "coupons build ", "coupons check CODE ",
		"migrate up ", "migrate down ", "migrate version ", "migrate force N ", "catalog import FILE ", "catalog export ", "healthcheck ", "completion bash "} {
		if code != 0 || !strings.Contains(out, "\n  "+want) {
			t.Errorf("exit %d, help %q lacks %q", code, out, want)
		}
	}
	t.Run("with a broken configuration it says why the commands would fail", func(t *testing.T) {
		code, out, _ := runWith(t, map[string]string{"MINIKART_LOG_LEVEL": "loud"}, "help")
		if code != 0 || !strings.Contains(out, "migrate force N") || !strings.Contains(out, `log.level: "loud"`) {
			t.Errorf("exit %d, help %q", code, out)
		}
	})
	t.Run("a contributed command fails on a broken configuration", func(t *testing.T) {
		code, _, errOut := runWith(t, map[string]string{"MINIKART_LOG_LEVEL": "loud"}, "coupons", "check", "HAPPYHRS")
		if code != 1 || !strings.Contains(errOut, `log.level: "loud"`) {
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
	in := " in " + filepath.Join(dir, "development.yaml")
	for _, want := range []string{"sever: unknown section" + in + "; did you mean server?", "promo.min_fils: unknown key" + in + "; did you mean promo.min_files?"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	}
}

// TestEnvExampleIsAValidProductionEnvironment: .env.example, read as the
// .env file, names only variables the configuration knows and holds all
// that production requires.
func TestEnvExampleIsAValidProductionEnvironment(t *testing.T) {
	t.Setenv("MINIKART_ENV", "")
	os.Unsetenv("MINIKART_ENV") // the file's MINIKART_ENV=production must count
	t.Setenv("MINIKART_ENV_FILE", ".env.example")
	var out, errOut bytes.Buffer
	if code := run([]string{"config", "validate"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "production") {
		t.Errorf("config validate: exit %d, stdout %q, stderr %q; want 0 for a production configuration", code, out.String(), errOut.String())
	}
}
