package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// spec is what a package declares about its section.
type spec struct {
	key string
	// aliases maps a key inside the section to a plain variable name.
	aliases map[string]string
	// typ is the section's type, where the declaration gives it.
	typ reflect.Type
}

// secret reports whether the key inside the section is a secret.
func (sp spec) secret(rel string) bool {
	return sp.typ != nil && secretKeys(sp.typ)[rel]
}

// SectionOption adds to a section's declaration.
type SectionOption func(*spec)

// Alias lets the plain environment variable name set key (a key inside the
// section, such as "url"), for deployments that predate the MINIKART_
// names. MINIKART_<SECTION>_<KEY> wins when both are set.
func Alias(key, name string) SectionOption {
	return func(s *spec) { s.aliases[key] = name }
}

func newSpec(key string, opts []SectionOption) spec {
	sp := spec{key: key, aliases: map[string]string{}}
	for _, o := range opts {
		o(&sp)
	}
	return sp
}

// decoded is one section decoded from a Source.
type decoded struct {
	spec spec
	typ  reflect.Type
	// value is a *T.
	value any
	// settings are the section's effective values: files, then environment
	// variables, then overrides.
	settings map[string]any
	// claimed are the MINIKART_ variables this section resolved.
	claimed []string
	// problems are the values that did not decode, the unknown keys and the
	// variables that named more than one key.
	problems problems
	// invalid is a missing section, or what the section's Validate
	// reported: left out when the section holds an unknown key or the
	// files misspell its name, since a misspelt key leaves its value at zero
	// and Validate would only repeat the typo in other words.
	invalid problems
}

// all returns every problem of the section.
func (d *decoded) all() problems {
	var p problems
	p.merge(d.problems)
	p.merge(d.invalid)
	return p
}

// Decode decodes the section under key into out (a pointer to the
// section's struct) and validates it when out implements Validator. Errors
// name the full key. Tests and tools use it to check a section alone; the
// application declares its sections with Section.
func (s *Source) Decode(key string, out any) error {
	return s.decode(newSpec(key, nil), out).all().err()
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

// section decodes the section sp declares once per Source and remembers it.
func (s *Source) section(sp spec, newOut func() any) *decoded {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.sections[sp.key]; ok {
		return d
	}
	d := s.decode(sp, newOut())
	s.sections[sp.key] = d
	return d
}

// settings returns the section's values from the files and the overrides,
// without the environment, as a nested map.
func (s *Source) settings(key string) map[string]any {
	m := s.files(key)
	s.override(key, m)
	return m
}

// files returns the YAML layers' values under key as a nested map.
func (s *Source) files(key string) map[string]any {
	m := map[string]any{}
	for _, k := range s.v.AllKeys() {
		if rest, ok := strings.CutPrefix(k, key+"."); ok {
			setNested(m, strings.Split(rest, "."), s.v.Get(k))
		}
	}
	return m
}

// override lays the overrides under key over m.
func (s *Source) override(key string, m map[string]any) {
	for k, val := range s.overrides {
		if rest, ok := strings.CutPrefix(k, key+"."); ok {
			setNested(m, strings.Split(rest, "."), val)
		}
	}
}

func (s *Source) decode(sp spec, out any) *decoded {
	key := sp.key
	d := &decoded{spec: sp, typ: reflect.TypeOf(out).Elem(), value: out}
	present := s.v.Get(key) != nil
	for k := range s.overrides {
		present = present || strings.HasPrefix(k, key+".")
	}
	if !present {
		d.invalid.errs = append(d.invalid.errs, fmt.Sprintf("section %q is missing", key))
		d.settings = map[string]any{}
		return d
	}
	d.problems.errs = append(d.problems.errs, s.secretsInFiles(d)...)
	// Files, then the environment, then overrides: the environment is
	// resolved against the files and the section's type.
	d.settings = s.files(key)
	s.applyEnv(d)
	s.override(key, d.settings)

	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		TagName:          "mapstructure",
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	})
	if err != nil {
		d.problems.errs = append(d.problems.errs, key+": "+err.Error())
		return d
	}
	failed := map[string]bool{}
	for _, e := range unjoin(dec.Decode(d.settings)) {
		var de *mapstructure.DecodeError
		if !errors.As(e, &de) {
			d.problems.errs = append(d.problems.errs, key+": "+e.Error())
			continue
		}
		path := keyPath(de.Name())
		failed[strings.Join(path, ".")] = true
		d.problems.errs = append(d.problems.errs, fmt.Sprintf("%s.%s: expected %s, got %s",
			key, strings.Join(path, "."), describe(typeAt(d.typ, path)), show(valueAt(d.settings, path))))
	}
	// mapstructure lists unused keys only when nothing failed to decode;
	// find them from the type so they are reported with the rest.
	unknown := unknownKeys(d.typ, d.settings)
	for _, path := range unknown {
		full := key + "." + strings.Join(path, ".")
		msg := full + ": unknown key" + s.origin(full)
		if near := closest(path[len(path)-1], fieldNames(typeAt(d.typ, path[:len(path)-1]))); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(append(append([]string{key}, path[:len(path)-1]...), near), "."))
		}
		d.problems.errs = append(d.problems.errs, msg)
	}
	if v, ok := out.(Validator); ok {
		d.invalid.add(key, v.Validate(), failed)
		if len(unknown) > 0 {
			d.invalid.errs = nil
		}
	}
	return d
}

// unknownKeys returns the paths in settings that no field of t reads,
// sorted.
func unknownKeys(t reflect.Type, settings any) [][]string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m, ok := settings.(map[string]any)
	if !ok {
		return nil
	}
	var out [][]string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var sub reflect.Type
		switch t.Kind() {
		case reflect.Struct:
			if sub = fieldType(t, k); sub == nil {
				out = append(out, []string{k})
				continue
			}
		case reflect.Map:
			sub = t.Elem()
		default:
			continue
		}
		for _, p := range unknownKeys(sub, m[k]) {
			out = append(out, append([]string{k}, p...))
		}
	}
	return out
}

// keyPath splits a mapstructure field name ("rules.codes[abc].discount",
// "files[0]") into key segments, keeping list indexes on their key.
func keyPath(name string) []string {
	var out []string
	for _, part := range strings.Split(name, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				out = append(out, part)
				break
			}
			inner := part[i+1 : j]
			if isIndex(inner) {
				// A list element: keep it on its key, as files[0].
				out = append(out, part[:j+1])
			} else {
				if i > 0 {
					out = append(out, part[:i])
				}
				out = append(out, inner)
			}
			part = part[j+1:]
		}
	}
	return out
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

var durationType = reflect.TypeOf(time.Duration(0))

// typeAt returns the type of the value at path below t, or nil.
func typeAt(t reflect.Type, path []string) reflect.Type {
	for _, seg := range path {
		if t == nil {
			return nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		name, idx, isElem := strings.Cut(seg, "[")
		switch t.Kind() {
		case reflect.Struct:
			t = fieldType(t, name)
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
		if isElem && idx != "" && t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
	}
	return t
}

func fieldType(t reflect.Type, name string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, squash := fieldTag(f)
		if squash {
			if ft := fieldType(f.Type, name); ft != nil {
				return ft
			}
			continue
		}
		if tag == name {
			return f.Type
		}
	}
	return nil
}

// fieldTag returns a field's key and whether its fields are squashed into
// the parent's.
func fieldTag(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("mapstructure")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(opts, "squash") || (f.Anonymous && name == "") {
		return "", f.Type.Kind() == reflect.Struct
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

func fieldNames(t reflect.Type) []string {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, squash := fieldTag(f)
		if squash {
			out = append(out, fieldNames(f.Type)...)
		} else if name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// describe says what a key of type t accepts.
func describe(t reflect.Type) string {
	if t == nil {
		return "a value of another type"
	}
	if t == durationType {
		return "a duration such as 500ms, 10s or 5m"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + " (comma-separated in an environment variable)"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys"
	}
	return "a " + t.String()
}

func valueAt(m map[string]any, path []string) any {
	var cur any = m
	for _, seg := range path {
		name, idx, isElem := strings.Cut(seg, "[")
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[name]
		if isElem {
			var i int
			fmt.Sscanf(strings.TrimSuffix(idx, "]"), "%d", &i)
			if l, ok := cur.([]any); ok && i < len(l) {
				cur = l[i]
			}
		}
	}
	return cur
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
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
