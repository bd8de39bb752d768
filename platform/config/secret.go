package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// SecretTag is the struct tag that marks a section's field as a secret:
//
//	URL string `mapstructure:"url" secret:"true"`
//
// It is the one record of which keys are secrets: config print masks them,
// production refuses them from the files (they come from the environment,
// or the .env file, only), and the configuration reference says so.
const SecretTag = "secret"

// IsSecret reports whether the field is tagged as a secret.
func IsSecret(f reflect.StructField) bool {
	return f.Tag.Get(SecretTag) == "true"
}

// secretKeys returns the dotted paths of the secret fields below a value of
// type t (struct fields, nested structs and squashed ones; not map entries).
func secretKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, squash := fieldTag(f)
			switch {
			case squash:
				walk(f.Type, prefix)
			case name == "-":
			case IsSecret(f):
				out[prefix+name] = true
			default:
				walk(f.Type, prefix+name+".")
			}
		}
	}
	walk(t, "")
	return out
}

// secretsInFiles reports, in production, every secret of the section that
// a configuration file sets: a file is copied, committed and baked into
// images, so production takes secrets from the environment only.
func (s *Source) secretsInFiles(d *decoded) []string {
	if s.env != Production {
		return nil
	}
	var out []string
	for _, rel := range slices.Sorted(maps.Keys(secretKeys(d.typ))) {
		key := d.spec.key + "." + rel
		for _, l := range s.layers {
			if isEmpty(l.v.Get(key)) {
				continue
			}
			vars := envName(key)
			if alias, ok := d.spec.aliases[rel]; ok {
				vars += " (or " + alias + ")"
			}
			out = append(out, fmt.Sprintf("%s: is a secret, and production takes secrets from the environment only: remove it from %s and set %s in the environment or the .env file", key, l.name, vars))
		}
	}
	return out
}

// mask returns the printable value of key: "******" (or "(unset)") for a
// secret, a URL without its password for any other key ending in url.
func mask(key string, secret bool, val any) string {
	if secret {
		if isEmpty(val) {
			return "(unset)"
		}
		if s, ok := val.(string); ok && strings.HasSuffix(key, "url") {
			// A database URL shows where it points, never its password.
			return RedactURL(s)
		}
		return "******"
	}
	str := fmt.Sprint(val)
	if strings.HasSuffix(key, "url") {
		return RedactURL(str)
	}
	return str
}
