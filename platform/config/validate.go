package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Validator is implemented by every config section. Validate checks the
// section's own values; it does no I/O, so a test can decode a section alone.
type Validator interface{ Validate() error }

// Checker is implemented by a section with checks beyond its own values:
// files it names, rules that depend on the environment (development, test or
// production). Check runs where the graph includes WithChecks (start-up and
// `config validate`), once the section's own values are valid.
// A FieldError made with Warn is reported without stopping anything.
type Checker interface{ Check(env string) error }

// Listener is implemented by a section that opens TCP listeners. Ports
// returns the port of each listener it will open, by the port's key inside
// the section. Where the graph includes WithChecks, two listeners on one port
// are refused (port 0, a free port the kernel picks, never clashes).
type Listener interface{ Ports() map[string]int }

// FieldError is a validation failure of one key inside a section.
type FieldError struct {
	Key string
	Msg string
	// Warning marks a problem worth an operator's attention that does not
	// stop start-up.
	Warning bool
}

// Error names the key and what is wrong with it.
func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Invalid returns a FieldError for key, formatted like fmt.Sprintf.
func Invalid(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Warn returns a warning about key: reported and logged, never fatal.
func Warn(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...), Warning: true}
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

// NonNegative returns nil when v >= 0, else an error naming key.
func NonNegative[N int | int64 | float64 | time.Duration](key string, v N) error {
	if v >= 0 {
		return nil
	}
	return Invalid(key, "must be 0 or more, got %v", v)
}

// problems are the qualified messages of one check: errors stop start-up,
// warnings are only reported.
type problems struct {
	errs     []string
	warnings []string
}

// add files every error joined in err under section, naming the full key of
// each FieldError. Errors for keys in skip are dropped: their value did not
// decode, and that is already reported.
func (p *problems) add(section string, err error, skip map[string]bool) {
	for _, e := range unjoin(err) {
		var fe *FieldError
		switch {
		case errors.As(e, &fe) && fe.Warning:
			p.warnings = append(p.warnings, section+"."+fe.Error())
		case errors.As(e, &fe):
			if !skip[fe.Key] {
				p.errs = append(p.errs, section+"."+fe.Error())
			}
		default:
			p.errs = append(p.errs, section+": "+e.Error())
		}
	}
}

func (p *problems) merge(o problems) {
	p.errs = append(p.errs, o.errs...)
	p.warnings = append(p.warnings, o.warnings...)
}

// err returns the errors as one *Error, or nil.
func (p problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &Error{Problems: p.errs}
}

// Error is every problem found in the configuration, each naming the full
// key (or the environment variable) to fix. Find it in a graph's error with
// errors.As.
type Error struct {
	Problems []string
}

// Error lists the problems, one a line when there are several.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0]
	}
	return fmt.Sprintf("config: %d problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// unjoin flattens errors.Join trees into their leaves, looking through
// single wrappers around a join (mapstructure wraps its joined errors).
func unjoin(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			var out []error
			for _, e := range j.Unwrap() {
				out = append(out, unjoin(e)...)
			}
			return out
		}
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
