package config

import (
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
	get := func(s *Source) *decoded { return s.section(sp, func() any { return new(T) }) }
	return fx.Options(
		fx.Provide(fx.Private, func(s *Source, _ checked) (T, error) {
			d := get(s)
			return *d.value.(*T), d.problems.err()
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
	return *d.value.(*T), len(d.problems.errs) == 0
}

// declaration is a section's entry in the config.sections group.
type declaration struct{ key string }

// checked proves that the whole configuration decoded and validated.
type checked struct{}

// Report is the outcome of the checks that need more than a section's own
// values (Checker): the warnings to show an operator.
type Report struct {
	// Warnings name the full key and what deserves attention.
	Warnings []string
}

// Module checks the whole configuration in the graph. platform supplies the
// *Source; every Section depends on the check.
var Module = fx.Options(
	fx.Provide(
		fx.Annotate(newChecked, fx.ParamTags(``, `group:"config.sections"`)),
		fx.Annotate(newReport, fx.ParamTags(``, ``, `group:"config.sections"`)),
	),
)

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

func newChecked(s *Source, decls []declaration) (checked, error) {
	ds := s.declared(decls)
	var p problems
	p.errs = s.unknownVariables(ds)
	for _, d := range ds {
		p.merge(d.problems)
	}
	return checked{}, p.err()
}

// newReport runs every section's Checker. Only start-up and `config
// validate` ask for the Report: an operator command may have to write the
// files the configuration names before they exist.
func newReport(s *Source, _ checked, decls []declaration) (Report, error) {
	var p problems
	for _, d := range s.declared(decls) {
		p.warnings = append(p.warnings, d.problems.warnings...)
		if c, ok := d.value.(Checker); ok {
			p.add(d.spec.key, c.Check(s.env), nil)
		}
	}
	return Report{Warnings: p.warnings}, p.err()
}
