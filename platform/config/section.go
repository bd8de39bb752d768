package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"

	"go.uber.org/fx"
)

// Section declares the configuration section under key, decoded into T:
// it provides T to the enclosing fx.Module (privately) and joins the
// section to the whole-configuration check. The section is decoded once,
// with defaults applied, and T.Validate runs; T is only handed out when every
// declared section is valid and no MINIKART_ variable is unknown, so a bad
// value anywhere stops start-up before a single hook runs, and the error
// lists every problem at once.
//
//	var Module = fx.Module("reviews",
//		config.Section[Config]("reviews", config.Alias("token", "REVIEWS_TOKEN")),
//		fx.Provide(...),
//	)
func Section[T any](key string, opts ...SectionOption) fx.Option {
	sp := newSpec(key, opts)
	sp.typ = reflect.TypeFor[T]()
	remember(sp)
	get := func(s *Source) *decoded { return s.section(sp, func() any { return new(T) }) }
	return fx.Options(
		fx.Provide(fx.Private, func(s *Source, _ checked) (T, error) {
			d := get(s)
			return *d.value.(*T), d.all().err()
		}),
		fx.Provide(fx.Annotate(func(s *Source) declaration {
			get(s)
			return declaration{key: key}
		}, fx.ResultTags(`group:"config.sections"`))),
	)
}

// Peek decodes the section under key ahead of the graph, for the few options
// fx needs before it is built (the start and stop timeouts). It reports false
// when the section has problems; the graph reports them with the rest. The
// section must also be declared with Section, with the same options.
func Peek[T any](s *Source, key string, opts ...SectionOption) (T, bool) {
	d := s.section(newSpec(key, opts), func() any { return new(T) })
	return *d.value.(*T), len(d.all().errs) == 0
}

// declaration is a section's entry in the config.sections group.
type declaration struct{ key string }

// checked proves that the whole configuration decoded and validated, and
// holds the warnings found on the way.
type checked struct{ warnings []string }

// Report is what an operator should see about a valid configuration: the
// warnings of every section, its Checker's included.
type Report struct {
	// Warnings name the full key and what deserves attention.
	Warnings []string
}

// Module checks the whole configuration in the graph. platform supplies the
// *Source; every Section depends on the check.
var Module = fx.Options(
	fx.Provide(
		fx.Annotate(newChecked, fx.ParamTags(``, `group:"config.sections"`, `optional:"true"`, `optional:"true"`)),
		newReport,
	),
)

// Whole marks a graph as the whole application: a top-level key of the
// files that no declared section reads is then an error too. A graph of a
// few sections (a test's) leaves it out.
var Whole = fx.Supply(&whole{})

type whole struct{}

// WithChecks runs every section's Checker in the check, so a file the
// configuration names that cannot be read is reported with every other
// problem. Start-up and `config validate` include it; an operator command
// does not, as it may have to write those files before they exist.
var WithChecks = fx.Supply(&withChecks{})

type withChecks struct{}

// sections returns the declared sections, decoded, sorted by key.
func (s *Source) declared(decls []declaration) []*decoded {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []*decoded
	for _, d := range decls {
		if !seen[d.key] {
			seen[d.key] = true
			out = append(out, s.sections[d.key])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spec.key < out[j].spec.key })
	return out
}

func newChecked(s *Source, decls []declaration, w *whole, c *withChecks) (checked, error) {
	ds := s.declared(decls)
	var p problems
	p.errs = s.unknownVariables(ds)
	misspelt := map[string]bool{}
	if w != nil {
		var errs []string
		errs, misspelt = s.unknownSections(ds)
		p.errs = append(p.errs, errs...)
	}
	for _, d := range ds {
		p.merge(d.problems)
		p.warnings = append(p.warnings, d.invalid.warnings...)
		if !misspelt[d.spec.key] {
			p.errs = append(p.errs, d.invalid.errs...)
		}
		// A Checker looks at a section only once its values are sound.
		if ch, ok := d.value.(Checker); ok && c != nil && len(d.all().errs) == 0 && !misspelt[d.spec.key] {
			p.add(d.spec.key, ch.Check(s.env), nil)
		}
	}
	if c != nil {
		p.errs = append(p.errs, sharedPorts(ds)...)
	}
	return checked{warnings: p.warnings}, p.err()
}

// sharedPorts reports every listener port another listener also uses,
// among the sections whose own values are sound.
func sharedPorts(ds []*decoded) []string {
	first := map[int]string{}
	var out []string
	for _, d := range ds {
		l, ok := d.value.(Listener)
		if !ok || len(d.all().errs) > 0 {
			continue
		}
		ports := l.Ports()
		for _, rel := range slices.Sorted(maps.Keys(ports)) {
			port, key := ports[rel], d.spec.key+"."+rel
			if port == 0 {
				continue
			}
			if other, ok := first[port]; ok {
				out = append(out, fmt.Sprintf("%s: %d is also %s; each listener needs a port of its own (set %s)", key, port, other, envName(key)))
				continue
			}
			first[port] = key
		}
	}
	return out
}

// unknownSections reports every top-level key of the files (or the
// overrides) that no declared section reads, naming the closest section,
// and returns the sections so named: a misspelt one.
func (s *Source) unknownSections(ds []*decoded) ([]string, map[string]bool) {
	known := make([]string, 0, len(ds))
	declared := map[string]bool{}
	for _, d := range ds {
		known = append(known, d.spec.key)
		declared[d.spec.key] = true
	}
	var out []string
	misspelt := map[string]bool{}
	for _, key := range topKeys(s.v, s.overrides) {
		if declared[key] {
			continue
		}
		msg := key + ": unknown section" + s.origin(key)
		if near := closest(key, known); near != "" {
			msg += "; did you mean " + near + "?"
			misspelt[near] = true
		}
		out = append(out, msg)
	}
	return out, misspelt
}

// newReport hands out the warnings of a graph that runs the checks.
func newReport(c checked, _ *withChecks) Report {
	return Report{Warnings: c.warnings}
}
