package promo

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace/noop"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/apperr"
	"minikart/platform/health"
)

// fakeSet holds valid codes and records what Apply looked up.
type fakeSet struct {
	valid   map[string]bool
	lookups []string
}

func (f *fakeSet) Lookup(code string) couponset.Verdict {
	f.lookups = append(f.lookups, code)
	if f.valid[code] {
		return couponset.Valid
	}
	return couponset.NotFound
}

func (f *fakeSet) Len() int { return len(f.valid) }

var testRules = RulesConfig{
	Default: Rule{Discount: "10%"},
	Codes: map[string]Rule{
		"happyhrs":  {Discount: "18%"},
		" BUYGETON": {Discount: CheapestItemFree},
		"FIVEOFF12": {Discount: "5.00", MinSubtotal: "20.00"},
	},
}

func newTestService(t *testing.T) (*Service, *metrics) {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(validated(t, Config{Rules: testRules}), m, noop.NewTracerProvider())
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

// validated is c with its rules compiled, as Config.Validate leaves it.
func validated(t *testing.T, c Config) Config {
	t.Helper()
	book, errs := c.Rules.compile()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c.rules = book
	return c
}

var lines = []Line{{UnitPrice: 1000, Quantity: 2}, {UnitPrice: 650, Quantity: 1}} // subtotal 26.50

func TestApplyValidCodes(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		lookedUp string
		want     Quote
	}{
		{"a code with its own rule", "HAPPYHRS", "HAPPYHRS", Quote{Code: "HAPPYHRS", Discount: 477}},
		{"lower case and blanks", "  happyhrs\t", "HAPPYHRS", Quote{Code: "HAPPYHRS", Discount: 477}},
		{"a rule declared with blanks", "buygeton", "BUYGETON", Quote{Code: "BUYGETON", Discount: 650}},
		{"an amount with a minimum subtotal", "fiveoff12", "FIVEOFF12", Quote{Code: "FIVEOFF12", Discount: 500}},
		{"a valid code without a rule gets the default", "SPRING2026", "SPRING2026", Quote{Code: "SPRING2026", Discount: 265}},
		{"ten characters", "ABCDEFGHIJ", "ABCDEFGHIJ", Quote{Code: "ABCDEFGHIJ", Discount: 265}},
		{"eight multi-byte characters in sixteen bytes", "äöüéäöüé", "ÄÖÜÉÄÖÜÉ", Quote{Code: "ÄÖÜÉÄÖÜÉ", Discount: 265}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestService(t)
			set := &fakeSet{valid: map[string]bool{tt.lookedUp: true}}
			s.swapIn(set)
			got, err := s.Apply(context.Background(), tt.code, lines)
			if err != nil || got != tt.want {
				t.Errorf("Apply(%q) = %+v, %v; want %+v", tt.code, got, err, tt.want)
			}
			if len(set.lookups) != 1 || set.lookups[0] != tt.lookedUp {
				t.Errorf("looked up %q, want %q", set.lookups, tt.lookedUp)
			}
		})
	}
}

func TestApplyLengthIsCheckedBeforeLookup(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		message string
	}{
		{"empty", "", "has 0 characters, want 8 to 10"},
		{"seven characters", "SEVENCH", "has 7 characters, want 8 to 10"},
		{"seven after trimming", "  SEVENCH  ", "has 7 characters, want 8 to 10"},
		{"eleven characters", "ELEVENCHARS", "has 11 characters, want 8 to 10"},
		{"seven multi-byte characters in fourteen bytes", "ÄÖÜÄÖÜÄ", "has 7 characters, want 8 to 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, loaded := range []bool{true, false} {
				s, _ := newTestService(t)
				set := &fakeSet{valid: map[string]bool{}}
				if loaded {
					s.swapIn(set)
				}
				_, err := s.Apply(context.Background(), tt.code, lines)
				ae, ok := apperr.As(err)
				if !errors.Is(err, ErrInvalidPromoLength) || !ok || len(ae.Details) != 1 ||
					ae.Details[0].Field != "couponCode" || ae.Details[0].Message != tt.message {
					t.Errorf("loaded=%t: err = %#v", loaded, err)
				}
				if len(set.lookups) != 0 {
					t.Errorf("loaded=%t: looked up %q", loaded, set.lookups)
				}
			}
		})
	}
}

func TestApplyBeforeTheSetIsLoaded(t *testing.T) {
	s, _ := newTestService(t)
	if s.Ready() {
		t.Fatal("ready before loading")
	}
	_, err := s.Apply(context.Background(), "HAPPYHRS", lines)
	ae, _ := apperr.As(err)
	if !errors.Is(err, ErrPromoUnavailable) || ae.Kind != apperr.Unavailable || ae.RetryAfter != 5 {
		t.Errorf("err = %#v", err)
	}
	s.swapIn(&fakeSet{valid: map[string]bool{"HAPPYHRS": true}})
	if !s.Ready() {
		t.Error("not ready after loading")
	}
	if _, err := s.Apply(context.Background(), "HAPPYHRS", lines); err != nil {
		t.Errorf("after loading: %v", err)
	}
}

func TestApplyUnknownCode(t *testing.T) {
	s, _ := newTestService(t)
	s.swapIn(&fakeSet{valid: map[string]bool{"HAPPYHRS": true}})
	_, err := s.Apply(context.Background(), "NOTACODE", lines)
	if !errors.Is(err, ErrInvalidPromoCode) {
		t.Errorf("err = %v, want ErrInvalidPromoCode", err)
	}
}

func TestApplyCountsValidationsByResult(t *testing.T) {
	s, m := newTestService(t)
	apply := func(code string) { _, _ = s.Apply(context.Background(), code, lines) }
	apply("HAPPYHRS") // unavailable
	apply("SHORT")    // invalid_length
	s.swapIn(&fakeSet{valid: map[string]bool{"HAPPYHRS": true}})
	apply("HAPPYHRS")
	apply("happyhrs")
	apply("NOTACODE")
	apply("WAYTOOLONGCODE")

	want := map[string]float64{"valid": 2, "invalid": 1, "invalid_length": 2, "unavailable": 1}
	for result, n := range want {
		if got := testutil.ToFloat64(m.validations.WithLabelValues(result)); got != n {
			t.Errorf("promo_validations_total{result=%q} = %v, want %v", result, got, n)
		}
	}
}

func TestNewServiceNeedsAValidatedConfig(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewService(Config{Rules: testRules}, m, noop.NewTracerProvider()); err == nil {
		t.Error("NewService accepted rules that Validate never compiled")
	}
}

func TestHealthCheckFollowsTheSet(t *testing.T) {
	s, _ := newTestService(t)
	check := newCheck(s)
	if check.Name != "coupons" || check.Probe(context.Background()).Status != health.Loading {
		t.Errorf("before loading: %s %+v", check.Name, check.Probe(context.Background()))
	}
	s.swapIn(&fakeSet{})
	if got := check.Probe(context.Background()).Status; got != health.OK {
		t.Errorf("after loading: %s", got)
	}
}
