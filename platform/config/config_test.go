package config

import (
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
)

const defaultYAML = `
server:
  host: 127.0.0.1
  port: 8080
  timeout: 10s
log:
  level: info
database:
  url: ""
  password: ""
access:
  keys: []
store:
  files: [a.gz]
`

// writeConfigs writes a config directory holding default.yaml and an
// overlay for every environment (empty unless files gives it).
func writeConfigs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"default.yaml": defaultYAML}
	for _, env := range []string{Development, Test, Production} {
		all[env+".yaml"] = "# nothing beyond default.yaml\n"
	}
	for name, body := range files {
		all[name] = body
	}
	for name, body := range all {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// clearEnv unsets every variable these tests read, whatever the shell set.
func clearEnv(t *testing.T) {
	for _, name := range []string{
		"MINIKART_ENV", "MINIKART_CONFIG_DIR", "MINIKART_SERVER_PORT", "SERVER_PORT",
		"MINIKART_SERVER_TIMEOUT", "MINIKART_STORE_FILES", "MINIKART_ACCESS_KEYS", "ACCESS_KEY",
		"MINIKART_DATABASE_URL", "DATABASE_URL", "MINIKART_LOG_LEVEL", "LOG_LEVEL",
	} {
		unsetEnv(t, name)
	}
}

// unsetEnv removes the variable for the test and restores it after: a
// variable set to "" is not unset (it sets its key to empty).
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	os.Unsetenv(name)
}

// decodeAs decodes a section the way Section does, with its options.
func decodeAs(src *Source, key string, out any, opts ...SectionOption) error {
	return src.decode(newSpec(key, opts), out).problems.err()
}

type serverSection struct {
	Host    string        `mapstructure:"host"`
	Port    int           `mapstructure:"port"`
	Timeout time.Duration `mapstructure:"timeout"`
}

func TestLoadLayers(t *testing.T) {
	dir := writeConfigs(t, map[string]string{
		"development.yaml": "server:\n  port: 8081\n",
		"test.yaml":        "server:\n  port: 8082\n",
	})
	tests := []struct {
		name      string
		env       map[string]string
		opts      Options
		wantEnv   string
		wantPort  int
		wantHost  string
		wantLevel string
	}{
		{"default.yaml alone when the overlay is empty", nil, Options{Env: Production}, Production, 8080, "127.0.0.1", "info"},
		{"the development overlay by default", nil, Options{}, Development, 8081, "127.0.0.1", "info"},
		{"MINIKART_ENV picks the overlay", map[string]string{"MINIKART_ENV": "test"}, Options{}, Test, 8082, "127.0.0.1", "info"},
		{"Options.Env beats MINIKART_ENV", map[string]string{"MINIKART_ENV": "test"}, Options{Env: Development}, Development, 8081, "127.0.0.1", "info"},
		{"MINIKART_SERVER_PORT beats the overlay", map[string]string{"MINIKART_SERVER_PORT": "9001"}, Options{}, Development, 9001, "127.0.0.1", "info"},
		{"the SERVER_PORT alias beats the overlay", map[string]string{"SERVER_PORT": "9002"}, Options{}, Development, 9002, "127.0.0.1", "info"},
		{"MINIKART_SERVER_PORT beats the alias", map[string]string{"MINIKART_SERVER_PORT": "9001", "SERVER_PORT": "9002"}, Options{}, Development, 9001, "127.0.0.1", "info"},
		{"the LOG_LEVEL alias", map[string]string{"LOG_LEVEL": "debug"}, Options{}, Development, 8081, "127.0.0.1", "debug"},
		{"MINIKART_LOG_LEVEL beats LOG_LEVEL", map[string]string{"MINIKART_LOG_LEVEL": "warn", "LOG_LEVEL": "debug"}, Options{}, Development, 8081, "127.0.0.1", "warn"},
		{"overrides beat the environment", map[string]string{"MINIKART_SERVER_PORT": "9001", "SERVER_PORT": "9002"},
			Options{Overrides: map[string]any{"server.port": 9003, "server.host": "0.0.0.0"}}, Development, 9003, "0.0.0.0", "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := tt.opts
			opts.Dir = dir
			src, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			var s serverSection
			if err := decodeAs(src, "server", &s, Alias("port", "SERVER_PORT")); err != nil {
				t.Fatal(err)
			}
			var l struct {
				Level string `mapstructure:"level"`
			}
			if err := decodeAs(src, "log", &l, Alias("level", "LOG_LEVEL")); err != nil {
				t.Fatal(err)
			}
			if src.Env() != tt.wantEnv || s.Port != tt.wantPort || s.Host != tt.wantHost || l.Level != tt.wantLevel {
				t.Errorf("env %q port %d host %q level %q; want %q %d %q %q", src.Env(), s.Port, s.Host, l.Level, tt.wantEnv, tt.wantPort, tt.wantHost, tt.wantLevel)
			}
			if got := src.settings("app")["env"]; got != tt.wantEnv {
				t.Errorf("app.env = %q, want %q", got, tt.wantEnv)
			}
		})
	}
}

func TestLoadRejectsUnknownEnvironments(t *testing.T) {
	dir := writeConfigs(t, nil)
	tests := []struct {
		name string
		env  string
		opts Options
	}{
		{"from MINIKART_ENV", "staging", Options{Dir: dir}},
		{"from Options.Env", "", Options{Dir: dir, Env: "prod"}},
		{"case matters", "Production", Options{Dir: dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("MINIKART_ENV", tt.env)
			_, err := Load(tt.opts)
			if err == nil || !strings.Contains(err.Error(), "MINIKART_ENV") || !strings.Contains(err.Error(), "development, test, production") {
				t.Errorf("err = %v, want one naming MINIKART_ENV and the allowed values", err)
			}
		})
	}
}

func TestLoadFindsItsFiles(t *testing.T) {
	t.Run("a directory without default.yaml is an error", func(t *testing.T) {
		clearEnv(t)
		if _, err := Load(Options{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "default.yaml") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a broken file is an error naming its path", func(t *testing.T) {
		for _, name := range []string{"default.yaml", "development.yaml"} {
			clearEnv(t)
			dir := writeConfigs(t, map[string]string{name: "server: [port\n"})
			_, err := Load(Options{Dir: dir})
			want := "config: " + filepath.Join(dir, name) + ": yaml: line "
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "While parsing") {
				t.Errorf("err = %v, want it to start %q", err, want)
			}
		}
	})
	t.Run("an environment without its file is refused, naming file and directory", func(t *testing.T) {
		for _, env := range []string{Production, Development, Test} {
			clearEnv(t)
			dir := writeConfigs(t, nil)
			if err := os.Remove(filepath.Join(dir, env+".yaml")); err != nil {
				t.Fatal(err)
			}
			t.Setenv("MINIKART_CONFIG_DIR", dir)
			_, err := Load(Options{Env: env})
			want := "config: " + dir + " (chosen by MINIKART_CONFIG_DIR) has no " + env + ".yaml"
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want it to start %q", err, want)
			}
		}
	})
	t.Run("MINIKART_CONFIG_DIR names the directory", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("MINIKART_CONFIG_DIR", writeConfigs(t, map[string]string{"development.yaml": "server:\n  port: 7001\n"}))
		src, err := Load(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.v.GetInt("server.port"); got != 7001 {
			t.Errorf("server.port = %d, want 7001", got)
		}
	})
	t.Run("without a directory the embedded files are used", func(t *testing.T) {
		clearEnv(t)
		src, err := Load(Options{Env: Production})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.v.GetString("server.host"); got != "0.0.0.0" {
			t.Errorf("server.host = %q, want production's 0.0.0.0", got)
		}
	})
}

func TestDecodeLists(t *testing.T) {
	dir := writeConfigs(t, nil)
	type storeSection struct {
		Files []string `mapstructure:"files"`
	}
	type accessSection struct {
		Keys []string `mapstructure:"keys"`
	}
	tests := []struct {
		name    string
		env     map[string]string
		section string
		want    []string
	}{
		{"a YAML list", nil, "store", []string{"a.gz"}},
		{"a comma list from MINIKART_STORE_FILES", map[string]string{"MINIKART_STORE_FILES": "a,b,c"}, "store", []string{"a", "b", "c"}},
		{"a single value from MINIKART_STORE_FILES", map[string]string{"MINIKART_STORE_FILES": "only.gz"}, "store", []string{"only.gz"}},
		{"a comma list from ACCESS_KEY", map[string]string{"ACCESS_KEY": "k1,k2"}, "access", []string{"k1", "k2"}},
		{"MINIKART_ACCESS_KEYS", map[string]string{"MINIKART_ACCESS_KEYS": "new,old"}, "access", []string{"new", "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			src, err := Load(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			var p storeSection
			var o accessSection
			if err := src.Decode("store", &p); err != nil {
				t.Fatal(err)
			}
			if err := decodeAs(src, "access", &o, Alias("keys", "ACCESS_KEY")); err != nil {
				t.Fatal(err)
			}
			got := p.Files
			if tt.section == "access" {
				got = o.Keys
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeDurations(t *testing.T) {
	dir := writeConfigs(t, nil)
	tests := []struct {
		name      string
		env       string
		overrides map[string]any
		want      time.Duration
	}{
		{"from YAML", "", nil, 10 * time.Second},
		{"from the environment", "1m30s", nil, 90 * time.Second},
		{"from an override", "", map[string]any{"server.timeout": "250ms"}, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			if tt.env != "" {
				t.Setenv("MINIKART_SERVER_TIMEOUT", tt.env)
			}
			src, err := Load(Options{Dir: dir, Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			var s serverSection
			if err := src.Decode("server", &s); err != nil {
				t.Fatal(err)
			}
			if s.Timeout != tt.want {
				t.Errorf("timeout = %s, want %s", s.Timeout, tt.want)
			}
		})
	}
	t.Run("a value that is no duration names the key", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("MINIKART_SERVER_TIMEOUT", "soon")
		src, err := Load(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var s serverSection
		err = src.Decode("server", &s)
		if err == nil || !strings.Contains(err.Error(), "server") || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDecodeRejectsUnknownKeys(t *testing.T) {
	tests := []struct {
		name      string
		overlay   string
		overrides map[string]any
		unknown   string
	}{
		{"from an overlay file", "server:\n  prot: 8081\n", nil, "prot"},
		{"from an override", "", map[string]any{"server.read_timout": "5s"}, "read_timout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			dir := writeConfigs(t, map[string]string{"development.yaml": tt.overlay})
			src, err := Load(Options{Dir: dir, Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			var s serverSection
			err = src.Decode("server", &s)
			if err == nil || !strings.Contains(err.Error(), "config: server") || !strings.Contains(err.Error(), tt.unknown) {
				t.Errorf("err = %v, want one naming %q", err, tt.unknown)
			}
		})
	}
	t.Run("a missing section", func(t *testing.T) {
		clearEnv(t)
		src, err := Load(Options{Dir: writeConfigs(t, nil)})
		if err != nil {
			t.Fatal(err)
		}
		var s serverSection
		if err := src.Decode("cache", &s); err == nil || !strings.Contains(err.Error(), `section "cache" is missing`) {
			t.Errorf("err = %v", err)
		}
	})
}

// checkedSection fails validation on every key it is told to.
type checkedSection struct {
	Host    string        `mapstructure:"host"`
	Port    int           `mapstructure:"port"`
	Timeout time.Duration `mapstructure:"timeout"`
}

func (c checkedSection) Validate() error {
	return errors.Join(
		OneOf("host", c.Host, "localhost", "0.0.0.0"),
		Positive("timeout", c.Timeout),
		Positive("port", c.Port),
		errors.New("a rule across keys"),
	)
}

func TestDecodeNamesTheFullKey(t *testing.T) {
	clearEnv(t)
	src, err := Load(Options{Dir: writeConfigs(t, nil), Overrides: map[string]any{"server.timeout": "0s", "server.port": -1}})
	if err != nil {
		t.Fatal(err)
	}
	var s checkedSection
	err = src.Decode("server", &s)
	want := "config: 4 problems:\n" +
		`  server.host: "127.0.0.1" is not one of localhost, 0.0.0.0` + "\n" +
		"  server.timeout: must be greater than 0, got 0s\n" +
		"  server.port: must be greater than 0, got -1\n" +
		"  server: a rule across keys"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var fe *FieldError
	if !errors.As(Invalid("port", "bad %d", 1), &fe) || fe.Key != "port" || fe.Msg != "bad 1" {
		t.Errorf("Invalid = %+v", fe)
	}
}

type levelSection struct {
	Level string `mapstructure:"level"`
}

func (c levelSection) Validate() error {
	return OneOf("level", c.Level, "debug", "info")
}

// check builds a graph of the given sections over src and returns the
// configuration's error.
func check(src *Source, sections ...fx.Option) error {
	return build(src, fx.Options(sections...), fx.Invoke(func(checked) {}))
}

// report builds a graph of the given sections over src and returns the
// whole-configuration report, which only the application asks for.
func report(src *Source, sections ...fx.Option) (Report, error) {
	var r Report
	err := build(src, WithChecks, fx.Options(sections...), fx.Populate(&r))
	return r, err
}

func build(src *Source, opts ...fx.Option) error {
	err := fx.New(fx.NopLogger, fx.Supply(src), Module, fx.Options(opts...)).Err()
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return err
}

func TestGraphReportsEveryBadKey(t *testing.T) {
	clearEnv(t)
	dir := writeConfigs(t, nil)
	sections := []fx.Option{Section[checkedSection]("server"), Section[levelSection]("log")}

	t.Run("all bad keys of all sections", func(t *testing.T) {
		src, err := Load(Options{Dir: dir, Overrides: map[string]any{"server.host": "localhost", "server.port": 0, "log.level": "loud"}})
		if err != nil {
			t.Fatal(err)
		}
		err = check(src, sections...)
		want := "config: 3 problems:\n" +
			`  log.level: "loud" is not one of debug, info` + "\n" +
			"  server.port: must be greater than 0, got 0\n" +
			"  server: a rule across keys"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("a decode error is reported with the rest", func(t *testing.T) {
		src, err := Load(Options{Dir: dir, Overrides: map[string]any{"server.extra": 1, "log.level": "loud"}})
		if err != nil {
			t.Fatal(err)
		}
		err = check(src, sections...)
		if err == nil || !strings.Contains(err.Error(), "log.level") || !strings.Contains(err.Error(), "server.extra: unknown key") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a section is decoded once and handed out valid", func(t *testing.T) {
		src, err := Load(Options{Dir: dir, Overrides: map[string]any{"log.level": "debug"}})
		if err != nil {
			t.Fatal(err)
		}
		var got levelSection
		err = fx.New(fx.NopLogger, fx.Supply(src), Module, fx.Module("log", Section[levelSection]("log"), fx.Invoke(func(c levelSection) { got = c }))).Err()
		if err != nil || got.Level != "debug" {
			t.Errorf("Section = %+v, %v", got, err)
		}
		first := src.sections["log"]
		if err := check(src, Section[levelSection]("log")); err != nil || src.sections["log"] != first {
			t.Errorf("the section was decoded again (err %v)", err)
		}
	})
}

func TestEffectiveMasksSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("DATABASE_URL", "postgres://app:s3cret@db:5432/minikart?sslmode=disable")
	t.Setenv("ACCESS_KEY", "key-one,key-two")
	dir := writeConfigs(t, map[string]string{"development.yaml": "database:\n  password: hunter2\n"})
	src, err := Load(Options{Dir: dir, Overrides: map[string]any{"access.token": "", "server.require_api_key": true}})
	if err != nil {
		t.Fatal(err)
	}
	declareSecrets(src)
	got := map[string]string{}
	var keys []string
	for _, kv := range src.Effective() {
		got[kv.Key] = kv.Value
		keys = append(keys, kv.Key)
	}
	tests := []struct {
		key  string
		want string
	}{
		{"database.url", "postgres://app:******@db:5432/minikart?sslmode=disable"},
		{"database.password", "******"},
		{"access.keys", "******"},
		{"access.token", "(unset)"},
		{"server.require_api_key", "true"},
		{"server.port", "8080"},
		{"app.env", "development"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got[tt.key] != tt.want {
				t.Errorf("%s = %q, want %q", tt.key, got[tt.key], tt.want)
			}
		})
	}
	t.Run("no secret appears anywhere", func(t *testing.T) {
		for k, v := range got {
			for _, secret := range []string{"s3cret", "hunter2", "key-one", "key-two"} {
				if strings.Contains(v, secret) {
					t.Errorf("%s = %q shows %q", k, v, secret)
				}
			}
		}
	})
	t.Run("keys are sorted", func(t *testing.T) {
		for i := 1; i < len(keys); i++ {
			if keys[i-1] > keys[i] {
				t.Errorf("%q before %q", keys[i-1], keys[i])
			}
		}
	})
	t.Run("an empty api key list shows as unset", func(t *testing.T) {
		t.Setenv("ACCESS_KEY", "")
		src, err := Load(Options{Dir: writeConfigs(t, nil)})
		if err != nil {
			t.Fatal(err)
		}
		declareSecrets(src)
		for _, kv := range src.Effective() {
			if kv.Key == "access.keys" && kv.Value != "(unset)" {
				t.Errorf("access.keys = %q, want (unset)", kv.Value)
			}
		}
	})
}

// secretSections are the sections TestEffectiveMasksSecrets shows, their
// secrets tagged as a package would.
type (
	secretDatabase struct {
		URL      string `mapstructure:"url" secret:"true"`
		Password string `mapstructure:"password" secret:"true"`
	}
	secretAccess struct {
		Keys  []string `mapstructure:"keys" secret:"true"`
		Token string   `mapstructure:"token" secret:"true"`
	}
	// A key named like a secret that is none: shown as it is.
	plainServer struct {
		Host          string        `mapstructure:"host"`
		Port          int           `mapstructure:"port"`
		Timeout       time.Duration `mapstructure:"timeout"`
		RequireAPIKey bool          `mapstructure:"require_api_key"`
	}
)

// declareSecrets decodes the sections TestEffectiveMasksSecrets shows with
// the aliases their packages would declare.
func declareSecrets(src *Source) {
	src.section(newSpec("database", []SectionOption{Alias("url", "DATABASE_URL")}), func() any { return &secretDatabase{} })
	src.section(newSpec("access", []SectionOption{Alias("keys", "ACCESS_KEY")}), func() any { return &secretAccess{} })
	src.section(newSpec("server", nil), func() any { return &plainServer{} })
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"no password", "postgres://app@db:5432/minikart", "postgres://app@db:5432/minikart"},
		{"no user info", "postgres://db:5432/minikart?sslmode=disable", "postgres://db:5432/minikart?sslmode=disable"},
		{"a password", "postgres://app:s3cret@db:5432/minikart", "postgres://app:******@db:5432/minikart"},
		{"an empty password", "postgres://app:@db/minikart", "postgres://app:******@db/minikart"},
		{"the query is kept", "postgres://app:s3cret@db/minikart?sslmode=require", "postgres://app:******@db/minikart?sslmode=require"},
		{"a password holding @", "postgres://app:p@ss@db/minikart", "postgres://app:******@db/minikart"},
		{"a password holding / and @", "postgres://app:a/b@c@db/minikart", "postgres://app:******@db/minikart"},
		{"an @ in the query is not user info", "postgres://app@db/minikart?application_name=a@b", "postgres://app@db/minikart?application_name=a@b"},
		{"a password query parameter", "postgres://app@db/minikart?sslmode=disable&password=s3cret&x=1", "postgres://app@db/minikart?sslmode=disable&password=******&x=1"},
		{"keyword/value form", "host=db user=app password=s3cret dbname=minikart", "host=db user=app password=****** dbname=minikart"},
		{"keyword/value form, quoted", "host=db password = 'it\\'s secret' dbname=minikart", "host=db password = ****** dbname=minikart"},
		{"not a DSN", "minikart", "minikart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestProductionRefusesSecretsInFiles(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		files map[string]string
		want  []string
	}{
		{"in production.yaml", Production,
			map[string]string{"production.yaml": "database:\n  url: postgres://app:s3cret@db/minikart\naccess:\n  keys: [shop:k]\n"},
			[]string{
				"database.url: is a secret, and production takes secrets from the environment only: remove it from %s/production.yaml and set MINIKART_DATABASE_URL (or DATABASE_URL) in the environment or the .env file",
				"access.keys: is a secret, and production takes secrets from the environment only: remove it from %s/production.yaml and set MINIKART_ACCESS_KEYS (or ACCESS_KEY) in the environment or the .env file",
			}},
		{"in default.yaml", Production,
			map[string]string{"default.yaml": strings.Replace(defaultYAML, "  keys: []\n", "  keys: []\n  token: t0ken\n", 1)},
			[]string{"access.token: is a secret, and production takes secrets from the environment only: remove it from %s/default.yaml and set MINIKART_ACCESS_TOKEN in the environment or the .env file"}},
		{"in development, files may hold them", Development,
			map[string]string{"development.yaml": "database:\n  url: postgres://app:s3cret@db/minikart\naccess:\n  keys: [shop:k]\n"},
			nil},
		{"empty in the files", Production, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			// The environment's value does not excuse the file's.
			t.Setenv("DATABASE_URL", "postgres://app@db/minikart")
			dir := writeConfigs(t, tt.files)
			src, err := Load(Options{Env: tt.env, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			for _, sec := range []struct {
				key string
				out any
				opt SectionOption
			}{{"database", &secretDatabase{}, Alias("url", "DATABASE_URL")}, {"access", &secretAccess{}, Alias("keys", "ACCESS_KEY")}} {
				if err := decodeAs(src, sec.key, sec.out, sec.opt); err != nil {
					errs = append(errs, err.(*Error).Problems...)
				}
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, fmt.Sprintf(w, dir))
			}
			if !reflect.DeepEqual(errs, want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
