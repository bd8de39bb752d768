// Package config loads Mini-Kart's layered configuration: configs/default.yaml,
// then configs/<env>.yaml for the environment named by MINIKART_ENV, then
// environment variables MINIKART_<SECTION>_<KEY> (and the plain aliases the
// owning packages declare). Each package declares its own section with
// Section; the graph decodes every section once, and reports every bad key,
// every unknown MINIKART_ variable and every failed check at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/viper"

	"minikart/configs"
)

// Environments the service knows. Each has a configs/<env>.yaml overlay.
const (
	Development = "development"
	Test        = "test"
	Production  = "production"
)

// EnvPrefix prefixes every environment variable that overrides a key.
const EnvPrefix = "MINIKART"

// Variables with the prefix that choose where configuration comes from
// rather than set a key.
const (
	varEnv       = EnvPrefix + "_ENV"
	varConfigDir = EnvPrefix + "_CONFIG_DIR"
	varEnvFile   = EnvPrefix + "_ENV_FILE"
)

// Options chooses where configuration comes from.
type Options struct {
	// Env is the environment name; empty means MINIKART_ENV, else development.
	Env string
	// Dir holds default.yaml and <env>.yaml; empty means MINIKART_CONFIG_DIR,
	// else ./configs when it exists, else the copies embedded in the binary.
	Dir string
	// Overrides are applied last, above environment variables (tests use them).
	Overrides map[string]any
	// Builtin reads only the files embedded in the binary, for Env or else
	// development, and no environment variable: a configuration that is
	// always valid, for listing the commands and their help when the
	// operator's own is not.
	Builtin bool
}

// Source is the merged configuration, read once at start-up. Sections are
// decoded from it once each and remembered.
type Source struct {
	env string
	// v holds the YAML layers only; environment variables and overrides
	// are applied per section, where the section's type resolves them.
	v *viper.Viper
	// layers are the files v merges, in order.
	layers    []layer
	overrides map[string]any
	// environ is envFile.vars: the variables, the .env file's included.
	environ map[string]string
	envFile environment

	mu       sync.Mutex
	sections map[string]*decoded
}

// Load reads and merges the configuration files and takes a snapshot of the
// environment.
func Load(o Options) (*Source, error) {
	// The built-in configuration reads no variable and no .env file.
	environ := environment{vars: map[string]string{}}
	if !o.Builtin {
		var err error
		if environ, err = readEnvironment(); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	env := o.Env
	if env == "" {
		env = environ.vars[varEnv]
	}
	if env == "" {
		env = Development
	}
	if env != Development && env != Test && env != Production {
		return nil, fmt.Errorf("config: %s: %q is not one of %s, %s, %s", varEnv, env, Development, Test, Production)
	}

	files := findFiles(o.Dir, environ.vars[varConfigDir])
	if o.Builtin {
		files = fileSet{}
	}
	v := viper.New()
	v.SetConfigType("yaml")
	var layers []layer
	for _, name := range []string{"default.yaml", env + ".yaml"} {
		l, err := files.read(name)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := v.MergeConfig(bytes.NewReader(l.raw)); err != nil {
			return nil, fmt.Errorf("config: %s: %w", l.name, err)
		}
		layers = append(layers, l)
	}

	overrides := map[string]any{}
	for k, val := range o.Overrides {
		overrides[strings.ToLower(k)] = val
	}
	overrides["app.env"] = env
	return &Source{env: env, v: v, layers: layers, overrides: overrides, environ: environ.vars, envFile: environ, sections: map[string]*decoded{}}, nil
}

// fileSet is where the configuration files come from: a directory, or the
// copies embedded in the binary.
type fileSet struct {
	// dir is empty for the embedded copies.
	dir string
	// chosenBy says what chose dir, for messages.
	chosenBy string
}

// findFiles chooses the directory dir, configDir (MINIKART_CONFIG_DIR) or
// ./configs names, in that order of preference, else the embedded copies.
func findFiles(dir, configDir string) fileSet {
	if dir != "" {
		return fileSet{dir: dir, chosenBy: "the configuration directory"}
	}
	if dir = configDir; dir != "" {
		return fileSet{dir: dir, chosenBy: varConfigDir}
	}
	if st, err := os.Stat("configs"); err == nil && st.IsDir() {
		return fileSet{dir: "configs", chosenBy: "the working directory's configs folder"}
	}
	return fileSet{}
}

// path names the file called name as messages show it.
func (f fileSet) path(name string) string {
	if f.dir == "" {
		return "configs/" + name + " (embedded)"
	}
	return filepath.Join(f.dir, name)
}

// read parses the file called name. Every environment's file must exist:
// an environment's settings (production's private metrics and admin
// listener) must never quietly fall back to the defaults.
func (f fileSet) read(name string) (layer, error) {
	l := layer{name: f.path(name), v: viper.New()}
	var b []byte
	var err error
	if f.dir == "" {
		b, err = configs.Files.ReadFile(name)
	} else {
		b, err = os.ReadFile(filepath.Join(f.dir, name))
	}
	if errors.Is(err, os.ErrNotExist) {
		return l, fmt.Errorf("%s (chosen by %s) has no %s; each environment reads default.yaml, then its own file: add %s there (configs/%s is the one this project ships) or choose another directory", f.dir, f.chosenBy, name, name, name)
	}
	if err != nil {
		return l, err
	}
	l.raw = b
	l.v.SetConfigType("yaml")
	if err := l.v.ReadConfig(bytes.NewReader(b)); err != nil {
		// viper's wrapper adds only "While parsing config".
		var pe viper.ConfigParseError
		if errors.As(err, &pe) {
			err = pe.Unwrap()
		}
		return l, fmt.Errorf("%s: %w", l.name, err)
	}
	return l, nil
}

// layer is one configuration file as read.
type layer struct {
	// name says where the file came from: a path, or an embedded copy.
	name string
	raw  []byte
	v    *viper.Viper
}

// origin names the files that set key, as " in <file>" (the last file
// first, as it wins), or "" when no file does.
func (s *Source) origin(key string) string {
	var names []string
	for i := len(s.layers) - 1; i >= 0; i-- {
		if s.layers[i].v.IsSet(key) {
			names = append(names, s.layers[i].name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " in " + strings.Join(names, " and ")
}

// Env returns the environment name (development, test or production).
func (s *Source) Env() string { return s.env }

// Resolved records val as key's value in force when the package that owns
// key resolves it beyond the configuration (the checkout's development
// database), so that Effective, and `config print`, show what is used.
func (s *Source) Resolved(key string, val any) {
	top, rest, _ := strings.Cut(key, ".")
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.sections[top]; d != nil && rest != "" {
		setNested(d.settings, strings.Split(rest, "."), val)
	}
}

// SetAboveFiles reports whether an environment variable (MINIKART_<KEY>, or
// one of the plain aliases names) or an override sets key, so that the files'
// value is not the one in force.
func (s *Source) SetAboveFiles(key string, names ...string) bool {
	if _, ok := s.overrides[key]; ok {
		return true
	}
	for _, n := range append(names, envName(key)) {
		if _, ok := s.environ[n]; ok {
			return true
		}
	}
	return false
}

// Effective returns every key with its effective value (files, environment
// and overrides), secrets masked and passwords removed from URLs, sorted by
// key. Sections already decoded show what their type resolved from the
// environment; the others show the files and overrides.
func (s *Source) Effective() []KV {
	var out []KV
	for _, key := range topKeys(s.v, s.overrides) {
		s.mu.Lock()
		d := s.sections[key]
		s.mu.Unlock()
		var settings map[string]any
		secrets := map[string]bool{}
		if d != nil {
			settings, secrets = d.settings, secretKeys(d.typ)
		} else {
			settings = s.settings(key)
		}
		for _, kv := range flatten(key, settings) {
			out = append(out, KV{Key: kv.Key, Value: mask(kv.Key, secrets[strings.TrimPrefix(kv.Key, key+".")], kv.val)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// KV is one effective configuration key and its printable value.
type KV struct {
	Key   string
	Value string
}

func topKeys(v *viper.Viper, overrides map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		top, _, _ := strings.Cut(k, ".")
		if !seen[top] {
			seen[top] = true
			keys = append(keys, top)
		}
	}
	for _, k := range v.AllKeys() {
		add(k)
	}
	for k := range overrides {
		add(k)
	}
	sort.Strings(keys)
	return keys
}

type flatKV struct {
	Key string
	val any
}

// flatten lists the leaves of a nested settings map under prefix.
func flatten(prefix string, m map[string]any) []flatKV {
	var out []flatKV
	for k, val := range m {
		key := prefix + "." + k
		if sub, ok := val.(map[string]any); ok && len(sub) > 0 {
			out = append(out, flatten(key, sub)...)
			continue
		}
		out = append(out, flatKV{key, val})
	}
	return out
}

func isEmpty(val any) bool {
	if val == nil {
		return true
	}
	rv := reflect.ValueOf(val)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return rv.Len() == 0
	}
	return false
}

// RedactURL hides the password in a PostgreSQL DSN so it can be shown or
// logged, in URL form (user:secret@ and a password= query parameter) and in
// keyword/value form (password=secret).
func RedactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return kvPassword.ReplaceAllString(raw, "${1}******")
	}
	rest = queryPassword.ReplaceAllString(rest, "${1}******")
	// The user info ends at the last @ before the query, not the first: a
	// password may hold an unescaped @ (or a /, which makes the URL invalid
	// but must not be shown either). A path holding an @ hides the host
	// too, which is the safe side to err on.
	authority := rest
	if i := strings.IndexAny(authority, "?#"); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return scheme + "://" + rest
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return scheme + "://" + rest
	}
	return scheme + "://" + user + ":******@" + rest[at+1:]
}

var (
	// kvPassword matches the value of password in a keyword/value DSN,
	// quoted (with backslash escapes, 'it\'s') or not.
	kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)
	// queryPassword matches the value of a password query parameter.
	queryPassword = regexp.MustCompile(`(?i)([?&]password=)[^&#]*`)
)
