package promo

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/config"
	"minikart/platform/money"
)

// Config is the promo section.
type Config struct {
	// Files are the gzip coupon files; a code must be a whole line in at
	// least MinFiles of them.
	Files    []string `mapstructure:"files"`
	MinFiles int      `mapstructure:"min_files"`
	// Load is blocking (serve only once the set is ready) or background
	// (serve at once; orders with a coupon get 503 until it is ready).
	Load string `mapstructure:"load"`
	// IndexPath is where the computed set is persisted for fast restarts;
	// empty disables the index.
	IndexPath string `mapstructure:"index_path"`
	// Decoder is the gzip decoder: auto (ISA-L's igzip when installed, else
	// pure Go), igzip, klauspost or gzip (the standard library).
	Decoder string `mapstructure:"decoder"`
	// Rules decide the discount of a valid code.
	Rules RulesConfig `mapstructure:"rules"`
}

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

// Load modes.
const (
	LoadBlocking   = "blocking"
	LoadBackground = "background"
)

// Validate checks files, modes and every rule.
func (c Config) Validate() error {
	var errs []error
	if len(c.Files) == 0 {
		errs = append(errs, config.Invalid("files", "must name at least one coupon file"))
	}
	for i, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, config.Invalid(fmt.Sprintf("files[%d]", i), "is empty"))
		}
	}
	if c.MinFiles < 1 || c.MinFiles > len(c.Files) {
		errs = append(errs, config.Invalid("min_files", "must be between 1 and the number of files (%d), got %d", len(c.Files), c.MinFiles))
	}
	errs = append(errs, config.OneOf("load", c.Load, LoadBlocking, LoadBackground))
	errs = append(errs, config.OneOf("decoder", c.Decoder, "auto", "isal", "igzip", "klauspost", "gzip"))
	if _, err := c.Rules.Default.compile(); err != nil {
		errs = append(errs, config.Invalid("rules.default", "%v", err))
	}
	codes := make([]string, 0, len(c.Rules.Codes))
	for code := range c.Rules.Codes {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		// Viper lower-cases map keys; name the code as the YAML spells it
		// and as Apply matches it, in upper case.
		norm, ok := couponset.NormalizeCode(code)
		key := "rules.codes." + norm
		if !ok {
			errs = append(errs, config.Invalid(key, "a code has %d to %d characters", MinCodeLen, MaxCodeLen))
		}
		if _, err := c.Rules.Codes[code].compile(); err != nil {
			errs = append(errs, config.Invalid(key, "%v", err))
		}
	}
	return errors.Join(errs...)
}

// Check reports coupon files the server could not read: start-up would
// refuse them, so `config validate` does too.
func (c Config) Check(string) error {
	var errs []error
	for i, f := range c.Files {
		if err := readable(f); err != nil {
			errs = append(errs, config.Invalid(fmt.Sprintf("files[%d]", i), "%q cannot be read: %v", f, err))
		}
	}
	return errors.Join(errs...)
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.IsDir() {
		return errors.New("is a directory")
	}
	return nil
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
