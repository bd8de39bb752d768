// Package config loads Mini-Kart's layered configuration: configs/default.yaml,
// then configs/<env>.yaml for the environment named by MINIKART_ENV, then
// environment variables MINIKART_<SECTION>_<KEY> (and a few plain aliases).
// Each module decodes and validates its own section with Section.
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
	"time"

	"github.com/go-viper/mapstructure/v2"
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

// aliases maps the plain variable names earlier deployments used to keys.
var aliases = map[string]string{
	"database.url":  "DATABASE_URL",
	"server.port":   "SERVER_PORT",
	"auth.api_keys": "API_KEY",
	"log.level":     "LOG_LEVEL",
}

// Options chooses where configuration comes from.
type Options struct {
	// Env is the environment name; empty means MINIKART_ENV, else development.
	Env string
	// Dir holds default.yaml and <env>.yaml; empty means MINIKART_CONFIG_DIR,
	// else ./configs when it exists, else the copies embedded in the binary.
	Dir string
	// Overrides are applied last, above environment variables (tests use them).
	Overrides map[string]any
}

// Source is the merged configuration, read once at start-up.
type Source struct {
	env string
	v   *viper.Viper
}

// Load reads and merges the configuration layers.
func Load(o Options) (*Source, error) {
	env := o.Env
	if env == "" {
		env = os.Getenv(EnvPrefix + "_ENV")
	}
	if env == "" {
		env = Development
	}
	if env != Development && env != Test && env != Production {
		return nil, fmt.Errorf("config: MINIKART_ENV: %q is not one of %s, %s, %s", env, Development, Test, Production)
	}

	v := viper.New()
	v.SetConfigType("yaml")
	read := fileReader(o.Dir)
	base, err := read("default.yaml")
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := v.ReadConfig(bytes.NewReader(base)); err != nil {
		return nil, fmt.Errorf("config: default.yaml: %w", err)
	}
	overlay, err := read(env + ".yaml")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err == nil {
		if err := v.MergeConfig(bytes.NewReader(overlay)); err != nil {
			return nil, fmt.Errorf("config: %s.yaml: %w", env, err)
		}
	}

	// Every key is in default.yaml, so binding each one makes environment
	// variables visible to Unmarshal, not only to Get.
	for _, key := range v.AllKeys() {
		names := []string{EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))}
		if alias, ok := aliases[key]; ok {
			names = append(names, alias)
		}
		if err := v.BindEnv(append([]string{key}, names...)...); err != nil {
			return nil, fmt.Errorf("config: bind %s: %w", key, err)
		}
	}
	for k, val := range o.Overrides {
		v.Set(k, val)
	}
	v.Set("app.env", env)
	return &Source{env: env, v: v}, nil
}

// fileReader returns a function reading a config file from dir, from
// ./configs, or from the embedded copies, in that order of preference.
func fileReader(dir string) func(name string) ([]byte, error) {
	if dir == "" {
		dir = os.Getenv(EnvPrefix + "_CONFIG_DIR")
	}
	if dir == "" {
		if st, err := os.Stat("configs"); err == nil && st.IsDir() {
			dir = "configs"
		}
	}
	if dir == "" {
		return func(name string) ([]byte, error) { return configs.Files.ReadFile(name) }
	}
	return func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
}

// Env returns the environment name (development, test or production).
func (s *Source) Env() string { return s.env }

// Validator is implemented by every config section.
type Validator interface{ Validate() error }

// Decode decodes the section under key into out and validates it when out
// implements Validator. Errors name the full key.
func (s *Source) Decode(key string, out any) error {
	sub := s.v.Get(key)
	if sub == nil {
		return fmt.Errorf("config: section %q is missing", key)
	}
	// Re-read through viper per key so environment variables are honoured.
	settings := map[string]any{}
	for _, k := range s.v.AllKeys() {
		if rest, ok := strings.CutPrefix(k, key+"."); ok {
			setNested(settings, strings.Split(rest, "."), s.v.Get(k))
		}
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		TagName:          "mapstructure",
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	})
	if err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	if err := dec.Decode(settings); err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	if val, ok := out.(Validator); ok {
		if err := val.Validate(); err != nil {
			return qualify(key, err)
		}
	}
	return nil
}

// FieldError is a validation failure of one key inside a section.
type FieldError struct {
	Key string
	Msg string
}

// Error names the key and what is wrong with it.
func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Invalid returns a FieldError for key, formatted like fmt.Sprintf.
func Invalid(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// OneOf returns nil when val is one of allowed, else an error listing them.
func OneOf(key, val string, allowed ...string) error {
	for _, a := range allowed {
		if val == a {
			return nil
		}
	}
	return Invalid(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
}

// Positive returns nil when v > 0, else an error naming key.
func Positive[N int | int64 | float64 | time.Duration](key string, v N) error {
	if v > 0 {
		return nil
	}
	return Invalid(key, "must be greater than 0, got %v", v)
}

// qualify prefixes every FieldError in err with the section name, so the
// message names the full key an operator has to fix.
func qualify(section string, err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			msgs = append(msgs, section+"."+fe.Error())
		} else {
			msgs = append(msgs, section+": "+e.Error())
		}
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

func setNested(m map[string]any, path []string, val any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = val
}

// Section returns an fx constructor that decodes and validates one section.
// A bad value stops start-up before any lifecycle hook runs.
func Section[T any](key string) func(*Source) (T, error) {
	sectionsMu.Lock()
	sections[key] = func(s *Source) error {
		var cfg T
		return s.Decode(key, &cfg)
	}
	sectionsMu.Unlock()
	return func(s *Source) (T, error) {
		var cfg T
		err := s.Decode(key, &cfg)
		return cfg, err
	}
}

// DecodeSection loads the configuration of env with overrides on top and
// decodes one section, for tests and tools that check a section alone.
func DecodeSection[T any](env, section string, overrides map[string]any) (T, error) {
	var cfg T
	src, err := Load(Options{Env: env, Overrides: overrides})
	if err != nil {
		return cfg, err
	}
	err = src.Decode(section, &cfg)
	return cfg, err
}

// sections records every section declared with Section (modules declare
// theirs when their package initialises), so ValidateAll can check them all.
var (
	sectionsMu sync.Mutex
	sections   = map[string]func(*Source) error{}
)

// ValidateAll decodes and validates every declared section and reports all
// bad keys at once, not only the first.
func (s *Source) ValidateAll() error {
	sectionsMu.Lock()
	keys := make([]string, 0, len(sections))
	for k := range sections {
		keys = append(keys, k)
	}
	sectionsMu.Unlock()
	sort.Strings(keys)
	var msgs []string
	for _, k := range keys {
		sectionsMu.Lock()
		check := sections[k]
		sectionsMu.Unlock()
		if err := check(s); err != nil {
			msgs = append(msgs, strings.TrimPrefix(err.Error(), "config: "))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// secretKeys are masked by Effective: never print or log their values.
var secretKeys = []string{"password", "api_keys", "secret", "token"}

// Effective returns every key with its effective value, secrets masked and
// passwords removed from URLs, sorted by key.
func (s *Source) Effective() []KV {
	keys := s.v.AllKeys()
	sort.Strings(keys)
	out := make([]KV, 0, len(keys))
	for _, k := range keys {
		out = append(out, KV{Key: k, Value: mask(k, s.v.Get(k))})
	}
	return out
}

// KV is one effective configuration key and its printable value.
type KV struct {
	Key   string
	Value string
}

func mask(key string, val any) string {
	for _, sk := range secretKeys {
		if strings.Contains(key, sk) {
			if isEmpty(val) {
				return "(unset)"
			}
			return "******"
		}
	}
	str := fmt.Sprint(val)
	if strings.HasSuffix(key, "url") {
		return RedactURL(str)
	}
	return str
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
