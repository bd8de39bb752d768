package promo

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/config"
	"minikart/platform/money"
)

// RulesConfig holds the default rule and per-code rules.
type RulesConfig struct {
	Default Rule            `mapstructure:"default"`
	Codes   map[string]Rule `mapstructure:"codes"`
}

// Rule is one discount rule. Discount is one string, so an environment's
// YAML overriding it replaces the whole discount rather than merging with
// the default's: "18%" (percent of the subtotal), "5.00" (an amount) or
// "cheapest_item_free" (one unit of the cheapest product once the order
// has two units). MinSubtotal ("20.00") optionally gates the rule.
type Rule struct {
	Discount    string `mapstructure:"discount"`
	MinSubtotal string `mapstructure:"min_subtotal"`
	// MaxRedemptions caps how many orders may use the code, across every
	// instance (counted in PostgreSQL); 0 means unlimited.
	MaxRedemptions int64 `mapstructure:"max_redemptions"`
}

// CheapestItemFree is the Discount value of the buy-one-get-one rule.
const CheapestItemFree = "cheapest_item_free"

// ruleBook is the compiled rules: per canonical code, and the default.
type ruleBook struct {
	codes map[string]rule
	deflt rule
}

// forCode is the rule of a canonical code (Quote.Code): its own, else the
// default. It is the one place a code's rule is resolved.
func (b *ruleBook) forCode(code string) rule {
	if r, ok := b.codes[code]; ok {
		return r
	}
	return b.deflt
}

// compile parses every rule once, keyed by the canonical code, and returns
// one error per bad rule, named by its key under the section.
func (rc RulesConfig) compile() (*ruleBook, []error) {
	var errs []error
	b := &ruleBook{codes: make(map[string]rule, len(rc.Codes))}
	var err error
	if b.deflt, err = rc.Default.compile(); err != nil {
		errs = append(errs, config.Invalid("rules.default", "%v", err))
	}
	codes := make([]string, 0, len(rc.Codes))
	for code := range rc.Codes {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		// Viper lower-cases map keys; name the code as the YAML spells it
		// and as Apply matches it, in canonical form.
		norm, ok := couponset.NormalizeCode(code)
		key := "rules.codes." + norm
		if !ok {
			errs = append(errs, config.Invalid(key, "a code has %d to %d characters", MinCodeLen, MaxCodeLen))
		}
		r, err := rc.Codes[code].compile()
		if err != nil {
			errs = append(errs, config.Invalid(key, "%v", err))
		}
		b.codes[norm] = r
	}
	return b, errs
}

// rule is a Rule in the units the arithmetic uses.
type rule struct {
	basisPoints      int64
	amount           money.Cents
	cheapestItemFree bool
	minSubtotal      money.Cents
	maxRedemptions   int64
}

func (r Rule) compile() (rule, error) {
	var out rule
	d := strings.TrimSpace(r.Discount)
	switch {
	case d == CheapestItemFree:
		out.cheapestItemFree = true
	case strings.HasSuffix(d, "%"):
		pct, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(d, "%")), 64)
		// Discounts are priced in basis points: a percentage that rounds
		// to none would validate and then never grant anything.
		if err != nil || !(pct > 0 && pct <= 100) || math.Round(pct*100) < 1 {
			return out, fmt.Errorf("discount %q: a percentage must be in [0.01%%, 100%%]", r.Discount)
		}
		out.basisPoints = int64(math.Round(pct * 100))
	default:
		a, err := money.Parse(d)
		if err != nil || a == 0 {
			return out, fmt.Errorf("discount %q: want a percentage (\"10%%\"), an amount (\"5.00\") or %s", r.Discount, CheapestItemFree)
		}
		out.amount = a
	}
	if r.MaxRedemptions < 0 {
		return out, fmt.Errorf("max_redemptions must be 0 (unlimited) or more, got %d", r.MaxRedemptions)
	}
	out.maxRedemptions = r.MaxRedemptions
	if r.MinSubtotal != "" {
		m, err := money.Parse(r.MinSubtotal)
		if err != nil {
			return out, fmt.Errorf("min_subtotal %q: want an amount like 20.00", r.MinSubtotal)
		}
		out.minSubtotal = m
	}
	return out, nil
}

// discount prices r on lines. It never exceeds the subtotal.
func (r rule) discount(lines []Line) money.Cents {
	var subtotal money.Cents
	units := 0
	cheapest := money.Cents(-1)
	for _, l := range lines {
		subtotal += l.UnitPrice * money.Cents(l.Quantity)
		units += l.Quantity
		if cheapest < 0 || l.UnitPrice < cheapest {
			cheapest = l.UnitPrice
		}
	}
	if subtotal < r.minSubtotal {
		return 0
	}
	var d money.Cents
	switch {
	case r.basisPoints > 0:
		d = subtotal.Percent(r.basisPoints)
	case r.amount > 0:
		d = r.amount
	case r.cheapestItemFree:
		// Buy one, get one: the cheapest unit is free once there are two.
		if units >= 2 {
			d = cheapest
		}
	}
	return min(d, subtotal)
}
