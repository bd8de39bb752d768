package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// applyEnv sets the section's keys from the environment: first the plain
// aliases its package declared, then MINIKART_<SECTION>_<KEY>, which wins.
// A name is resolved against the section's type and the keys the files
// already hold, so keys with underscores (rate_limit.requests_per_second)
// and map entries (rules.codes.<CODE>.max_uses) can be set.
func (s *Source) applyEnv(d *decoded) {
	for _, rel := range slices.Sorted(maps.Keys(d.spec.aliases)) {
		if val, ok := s.environ[d.spec.aliases[rel]]; ok {
			d.setEnv(d.spec.aliases[rel], strings.Split(rel, "."), val)
		}
	}
	prefix := envName(d.spec.key) + "_"
	for _, name := range slices.Sorted(maps.Keys(s.environ)) {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		paths := resolve(d.typ, d.settings, strings.Split(strings.ToLower(rest), "_"))
		switch len(paths) {
		case 0:
			// Not this section's; the graph reports a name nobody claims.
		case 1:
			d.setEnv(name, paths[0], s.environ[name])
			d.claimed = append(d.claimed, name)
		default:
			keys := make([]string, len(paths))
			for i, p := range paths {
				keys[i] = d.spec.key + "." + strings.Join(p, ".")
			}
			d.problems.errs = append(d.problems.errs, fmt.Sprintf("%s: could set %s; set the key in YAML instead", name, strings.Join(keys, " or ")))
			d.claimed = append(d.claimed, name)
		}
	}
}

// setEnv sets the key at path from the variable name. A variable set to the
// empty string means an empty value, as in the files (promo.index_path ""
// disables the index; an empty list has no entries); for a number, a
// duration or a switch, which have no empty value, it is an error rather
// than a silent zero or a silent fallback to the file.
func (d *decoded) setEnv(name string, path []string, val string) {
	if val == "" {
		if t := typeAt(d.typ, path); t != nil && !emptiable(t) {
			d.problems.errs = append(d.problems.errs, fmt.Sprintf("%s is set but empty: give it a value (%s), or unset it to keep %s.%s from the files",
				name, describe(t), d.spec.key, strings.Join(path, ".")))
			return
		}
	}
	setNested(d.settings, path, val)
}

// emptiable reports whether "" is a value of t: text and lists.
func emptiable(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Interface:
		return true
	}
	return false
}

// envName is the variable that sets the key path (dots between segments).
func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// resolve returns every key path the words can name below a value of type
// t, where known holds what the files set there. Map entries the files
// already hold are preferred over new ones.
func resolve(t reflect.Type, known any, words []string) [][]string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		var out [][]string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, squash := fieldTag(f)
			if squash {
				out = append(out, resolve(f.Type, known, words)...)
				continue
			}
			nw := strings.Split(name, "_")
			if name == "-" || len(words) < len(nw) || strings.Join(words[:len(nw)], "_") != name {
				continue
			}
			sub, _ := child(known, name)
			for _, p := range resolve(f.Type, sub, words[len(nw):]) {
				out = append(out, append([]string{name}, p...))
			}
		}
		return out
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String,
		t.Kind() == reflect.Interface && isMap(known):
		elem := t
		if t.Kind() == reflect.Map {
			elem = t.Elem()
		}
		var held, fresh [][]string
		for i := 1; i <= len(words); i++ {
			k := strings.Join(words[:i], "_")
			sub, ok := child(known, k)
			if !ok && t.Kind() == reflect.Interface {
				continue
			}
			for _, p := range resolve(elem, sub, words[i:]) {
				path := append([]string{k}, p...)
				if ok {
					held = append(held, path)
				} else {
					fresh = append(fresh, path)
				}
			}
		}
		if len(held) > 0 {
			return held
		}
		return fresh
	case len(words) == 0:
		return [][]string{{}}
	}
	return nil
}

func isMap(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func child(known any, key string) (any, bool) {
	m, ok := known.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

// leaves returns every key path below a value of type t: struct fields by
// the type, map entries by what the files hold.
func leaves(t reflect.Type, known any) [][]string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out [][]string
	prefix := func(k string, sub [][]string) {
		for _, p := range sub {
			out = append(out, append([]string{k}, p...))
		}
	}
	switch {
	case t.Kind() == reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, squash := fieldTag(f)
			if squash {
				out = append(out, leaves(f.Type, known)...)
			} else if name != "-" {
				sub, _ := child(known, name)
				prefix(name, leaves(f.Type, sub))
			}
		}
	case t.Kind() == reflect.Map, t.Kind() == reflect.Interface && isMap(known):
		elem := t
		if t.Kind() == reflect.Map {
			elem = t.Elem()
		}
		m, _ := known.(map[string]any)
		for k, sub := range m {
			prefix(k, leaves(elem, sub))
		}
	default:
		out = append(out, []string{})
	}
	return out
}

// unknownVariables reports every MINIKART_ variable no declared section
// resolved, naming the closest variable that would have.
func (s *Source) unknownVariables(ds []*decoded) []string {
	claimed := map[string]bool{varEnv: true, varConfigDir: true, varEnvFile: true}
	known := map[string]string{varEnv: "the environment", varConfigDir: "the configuration directory", varEnvFile: "the .env file"}
	for _, d := range ds {
		for _, n := range d.claimed {
			claimed[n] = true
		}
		for _, p := range leaves(d.typ, d.settings) {
			key := d.spec.key + "." + strings.Join(p, ".")
			known[envName(key)] = key
		}
	}
	names := slices.Sorted(maps.Keys(known))
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.environ)) {
		if !strings.HasPrefix(name, EnvPrefix+"_") || claimed[name] {
			continue
		}
		msg := s.envFile.describe(name) + " is not a configuration variable"
		if now, ok := renamed[name]; ok {
			msg = fmt.Sprintf("%s was renamed: set %s instead", s.envFile.describe(name), now)
			if key := known[now]; key != "" {
				msg = fmt.Sprintf("%s was renamed: set %s (%s) instead", s.envFile.describe(name), now, key)
			}
		} else if near := closest(name, names); near != "" {
			msg += fmt.Sprintf("; did you mean %s (%s)?", near, known[near])
		}
		out = append(out, msg)
	}
	return out
}

// renamed maps each variable an earlier release read to the one that
// replaced it, so a deployment that still sets the old name is told the
// new one rather than the nearest spelling.
var renamed = map[string]string{
	// The api keys moved from ordering to the auth section every module uses.
	"MINIKART_ORDERING_API_KEYS": "MINIKART_AUTH_API_KEYS",
}

// closest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be a likely typo.
func closest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(s, c); bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
