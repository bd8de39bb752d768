package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
)

// The key tree of these tests: keys with underscores, a nested section and
// a map of rules whose codes the files list only in part.
const treeYAML = `
server:
  host: 127.0.0.1
  port: 8080
  read_timeout: 10s
  rate_limit:
    enabled: true
    requests_per_second: 100
log:
  level: info
rules:
  default:
    discount: 10%
  codes:
    SPRINGSALE:
      discount: 18%
    TWO_PARTS:
      discount: 5%
`

type limitSection struct {
	Enabled           bool    `mapstructure:"enabled"`
	RequestsPerSecond float64 `mapstructure:"requests_per_second"`
}

type treeServer struct {
	Host        string        `mapstructure:"host"`
	Port        int           `mapstructure:"port"`
	ReadTimeout time.Duration `mapstructure:"read_timeout"`
	RateLimit   limitSection  `mapstructure:"rate_limit"`
}

func (c treeServer) Validate() error {
	return errors.Join(OneOf("host", c.Host, "127.0.0.1", "0.0.0.0"), Positive("port", c.Port))
}

type rule struct {
	Discount string `mapstructure:"discount"`
	MaxUses  int64  `mapstructure:"max_uses"`
}

type rulesSection struct {
	Default rule            `mapstructure:"default"`
	Codes   map[string]rule `mapstructure:"codes"`
}

func loadTree(t *testing.T, env map[string]string) *Source {
	t.Helper()
	clearEnv(t)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, EnvPrefix+"_") {
			unsetEnv(t, name)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir := writeConfigs(t, map[string]string{"default.yaml": treeYAML})
	src, err := Load(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var treeSections = []fx.Option{
	Section[treeServer]("server", Alias("port", "SERVER_PORT")),
	Section[levelSection]("log"),
	Section[rulesSection]("rules"),
}

func TestEnvironmentSetsEveryKey(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(s treeServer, r rulesSection) bool
	}{
		{"a key with underscores in a nested section",
			map[string]string{"MINIKART_SERVER_RATE_LIMIT_REQUESTS_PER_SECOND": "7.5"},
			func(s treeServer, _ rulesSection) bool { return s.RateLimit.RequestsPerSecond == 7.5 }},
		{"a key the files leave out, in a map entry they hold",
			map[string]string{"MINIKART_RULES_CODES_SPRINGSALE_MAX_USES": "5"},
			func(_ treeServer, r rulesSection) bool {
				return r.Codes["springsale"].MaxUses == 5 && r.Codes["springsale"].Discount == "18%"
			}},
		{"a map entry the files do not hold",
			map[string]string{"MINIKART_RULES_CODES_NEWCODE1_DISCOUNT": "20%"},
			func(_ treeServer, r rulesSection) bool { return r.Codes["newcode1"].Discount == "20%" }},
		{"a map entry holding an underscore",
			map[string]string{"MINIKART_RULES_CODES_TWO_PARTS_MAX_USES": "3", "MINIKART_RULES_CODES_NEW_ONE_DISCOUNT": "1%"},
			func(_ treeServer, r rulesSection) bool {
				return r.Codes["two_parts"].MaxUses == 3 && r.Codes["new_one"].Discount == "1%"
			}},
		{"an alias the section declares",
			map[string]string{"SERVER_PORT": "9002"},
			func(s treeServer, _ rulesSection) bool { return s.Port == 9002 }},
		{"MINIKART_ beats the alias",
			map[string]string{"SERVER_PORT": "9002", "MINIKART_SERVER_PORT": "9001"},
			func(s treeServer, _ rulesSection) bool { return s.Port == 9001 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := loadTree(t, tt.env)
			var s treeServer
			var r rulesSection
			err := fx.New(fx.NopLogger, fx.Supply(src), Module, fx.Options(treeSections...),
				fx.Invoke(func(a treeServer, b rulesSection) { s, r = a, b })).Err()
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s, r) {
				t.Errorf("server %+v, rules %+v", s, r)
			}
		})
	}
}

func TestEmptyVariables(t *testing.T) {
	t.Run("an empty text key is set empty, not left to the file", func(t *testing.T) {
		src := loadTree(t, map[string]string{"MINIKART_SERVER_HOST": ""})
		var s treeServer
		err := fx.New(fx.NopLogger, fx.Supply(src), Module, fx.Options(treeSections...),
			fx.Invoke(func(a treeServer) { s = a })).Err()
		// host "" is not one of the allowed hosts: the empty value reached
		// validation instead of the file's 127.0.0.1.
		if err == nil || !strings.Contains(err.Error(), "server.host") {
			t.Fatalf("err = %v, server %+v; want server.host refused as empty", err, s)
		}
	})
	t.Run("an empty number is an error naming the variable", func(t *testing.T) {
		for _, name := range []string{"MINIKART_SERVER_PORT", "SERVER_PORT"} {
			src := loadTree(t, map[string]string{name: ""})
			err := fx.New(fx.NopLogger, fx.Supply(src), Module, fx.Options(treeSections...),
				fx.Invoke(func(treeServer) {})).Err()
			if err == nil || !strings.Contains(err.Error(), name+" is set but empty") {
				t.Errorf("%s=\"\": err = %v; want it named as set but empty", name, err)
			}
		}
	})
}

func TestUnknownVariablesStopTheGraph(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"a typo names the closest variable",
			map[string]string{"MINIKART_SERVER_PROT": "9000"},
			[]string{"MINIKART_SERVER_PROT is not a configuration variable; did you mean MINIKART_SERVER_PORT (server.port)?"}},
		{"a nested typo",
			map[string]string{"MINIKART_SERVER_RATE_LIMIT_ENABLE": "false"},
			[]string{"MINIKART_SERVER_RATE_LIMIT_ENABLE is not a configuration variable; did you mean MINIKART_SERVER_RATE_LIMIT_ENABLED (server.rate_limit.enabled)?"}},
		{"a section nobody declares",
			map[string]string{"MINIKART_CACHE_SIZE": "1"},
			[]string{"MINIKART_CACHE_SIZE is not a configuration variable"}},
		{"every one at once, with the bad values",
			map[string]string{"MINIKART_SERVER_PROT": "1", "MINIKART_LOG_LEVLE": "debug", "MINIKART_LOG_LEVEL": "loud"},
			[]string{"config: 3 problems:", "MINIKART_LOG_LEVLE", "MINIKART_SERVER_PROT", `log.level: "loud" is not one of debug, info`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check(loadTree(t, tt.env), treeSections...)
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to contain %q", err, want)
				}
			}
		})
	}
	t.Run("a renamed variable names its new name", func(t *testing.T) {
		src := loadTree(t, map[string]string{"MINIKART_ORDERING_API_KEYS": "shop:k"})
		type authSection struct {
			APIKeys []string `mapstructure:"api_keys"`
		}
		type orderingSection struct {
			MaxItems int `mapstructure:"max_items"`
		}
		src.overrides["auth.api_keys"] = []string{}
		src.overrides["ordering.max_items"] = 1
		err := check(src, append(treeSections, Section[authSection]("auth"), Section[orderingSection]("ordering"))...)
		want := "config: MINIKART_ORDERING_API_KEYS was renamed: set MINIKART_AUTH_API_KEYS (auth.api_keys) instead"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("the variables that choose the files are known", func(t *testing.T) {
		src := loadTree(t, map[string]string{"MINIKART_ENV": "development"})
		t.Setenv("MINIKART_CONFIG_DIR", t.TempDir())
		if err := check(src, treeSections...); err != nil {
			t.Error(err)
		}
	})
}

// untyped declares a section the test does not look into, each in its own
// module since they share a type.
func untyped(key string) fx.Option {
	return fx.Module(key, Section[map[string]any](key))
}

func TestUnknownSectionsInFilesNameTheClosestSection(t *testing.T) {
	clearEnv(t)
	dir := writeConfigs(t, map[string]string{"development.yaml": "sever:\n  port: 8081\n"})
	src, err := Load(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = check(src, Whole, Section[serverSection]("server"), Section[levelSection]("log"),
		untyped("database"), untyped("access"), untyped("store"), untyped("app"))
	want := "config: sever: unknown section in " + filepath.Join(dir, "development.yaml") + "; did you mean server?"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if err := check(src, Section[serverSection]("server")); err != nil {
		t.Errorf("a graph of some sections: %v", err)
	}
}

func TestWrongTypesAreReportedWithEveryOtherBadKey(t *testing.T) {
	src := loadTree(t, map[string]string{
		"MINIKART_SERVER_PORT":                           "abc",
		"MINIKART_SERVER_READ_TIMEOUT":                   "soon",
		"MINIKART_SERVER_RATE_LIMIT_REQUESTS_PER_SECOND": "lots",
		"MINIKART_SERVER_RATE_LIMIT_ENABLED":             "maybe",
		"MINIKART_SERVER_HOST":                           "example.com",
		"MINIKART_RULES_CODES_SPRINGSALE_MAX_USES":       "many",
	})
	err := check(src, treeSections...)
	want := "config: 6 problems:\n" +
		`  rules.codes.springsale.max_uses: expected a whole number, got "many"` + "\n" +
		`  server.port: expected a whole number, got "abc"` + "\n" +
		`  server.read_timeout: expected a duration such as 500ms, 10s or 5m, got "soon"` + "\n" +
		`  server.rate_limit.enabled: expected true or false, got "maybe"` + "\n" +
		`  server.rate_limit.requests_per_second: expected a number, got "lots"` + "\n" +
		`  server.host: "example.com" is not one of 127.0.0.1, 0.0.0.0`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestUnknownKeysInFilesNameTheClosestKey(t *testing.T) {
	clearEnv(t)
	// A value that does not decode must not hide the unknown keys.
	t.Setenv("MINIKART_SERVER_PORT", "abc")
	dir := writeConfigs(t, map[string]string{"development.yaml": "server:\n  prot: 8081\n  tiemout: 1s\n"})
	src, err := Load(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var s serverSection
	err = src.Decode("server", &s)
	in := " in " + filepath.Join(dir, "development.yaml")
	for _, want := range []string{"server.prot: unknown key" + in + "; did you mean server.port?", "server.tiemout: unknown key" + in + "; did you mean server.timeout?",
		`server.port: expected a whole number, got "abc"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
}

func TestATypoInDefaultYAMLIsReportedAlone(t *testing.T) {
	clearEnv(t)
	sections := []fx.Option{Whole, Section[checkedSection]("server"), Section[levelSection]("log"),
		untyped("database"), untyped("access"), untyped("store"), untyped("app")}
	tests := []struct {
		name, from, to, want string
	}{
		{"a misspelt section", "server:", "sever:", "sever: unknown section in %s; did you mean server?"},
		{"a misspelt key", "  timeout: 10s", "  timout: 10s", "server.timout: unknown key in %s; did you mean server.timeout?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfigs(t, map[string]string{"default.yaml": strings.Replace(defaultYAML, tt.from, tt.to, 1)})
			src, err := Load(Options{Dir: dir, Overrides: map[string]any{"server.host": "localhost"}})
			if err != nil {
				t.Fatal(err)
			}
			// checkedSection's Validate always fails: the typo hides it.
			want := "config: " + fmt.Sprintf(tt.want, filepath.Join(dir, "default.yaml"))
			if err := check(src, sections...); err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant %s", err, want)
			}
		})
	}
}

// filesSection checks a file it names, and warns about a value in
// production.
type filesSection struct {
	Path string `mapstructure:"path"`
	Mode string `mapstructure:"mode"`
}

func (c filesSection) Check(env string) error {
	var errs []error
	if _, err := os.Stat(c.Path); err != nil {
		errs = append(errs, Invalid("path", "%q cannot be read", c.Path))
	}
	if env == Production && c.Mode == "demo" {
		errs = append(errs, Warn("mode", "demo in production"))
	}
	return errors.Join(errs...)
}

func TestReportRunsEveryCheck(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "present")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      string
		path     string
		wantErr  string
		warnings []string
	}{
		{"a file that is there", Development, existing, "", nil},
		{"a missing file", Development, "/nonexistent/file", `config: files.path: "/nonexistent/file" cannot be read`, nil},
		{"a warning in production", Production, existing, "", []string{"files.mode: demo in production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			src, err := Load(Options{Env: tt.env, Dir: writeConfigs(t, map[string]string{
				tt.env + ".yaml": "files:\n  path: " + tt.path + "\n  mode: demo\n",
			})})
			if err != nil {
				t.Fatal(err)
			}
			r, err := report(src, Section[filesSection]("files"))
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Join(r.Warnings, "|") != strings.Join(tt.warnings, "|") {
				t.Errorf("warnings %q, want %q", r.Warnings, tt.warnings)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"port", "port", 0}, {"prot", "port", 2}, {"port", "ports", 1}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// listenerSection opens listeners on the ports its keys name.
type listenerSection struct {
	Port      int  `mapstructure:"port"`
	AdminPort int  `mapstructure:"admin_port"`
	Admin     bool `mapstructure:"admin"`
}

func (c listenerSection) Ports() map[string]int {
	p := map[string]int{"port": c.Port}
	if c.Admin {
		p["admin_port"] = c.AdminPort
	}
	return p
}

func TestListenersNeedPortsOfTheirOwn(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"two sections on one port", map[string]any{"edge.port": 8080, "ops.port": 8080},
			"config: ops.port: 8080 is also edge.port; each listener needs a port of its own (set MINIKART_OPS_PORT)"},
		{"two listeners of one section", map[string]any{"edge.port": 8080, "edge.admin": true, "edge.admin_port": 8080, "ops.port": 9090},
			"config: edge.port: 8080 is also edge.admin_port; each listener needs a port of its own (set MINIKART_EDGE_PORT)"},
		{"a listener that is off", map[string]any{"edge.port": 8080, "edge.admin_port": 8080, "ops.port": 9090}, ""},
		{"port 0 picks a free one", map[string]any{"edge.port": 0, "ops.port": 0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			src, err := Load(Options{Dir: writeConfigs(t, nil), Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			sections := []fx.Option{fx.Module("edge", Section[listenerSection]("edge")), fx.Module("ops", Section[listenerSection]("ops"))}
			_, err = report(src, sections...)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err := check(src, sections...); err != nil {
				t.Errorf("without the checks (an operator command): %v", err)
			}
		})
	}
}
