package promo

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/config"
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
	// WatchInterval is how often the files' fingerprint is checked for a
	// new set; 0 turns the timer off (SIGHUP still checks).
	WatchInterval time.Duration `mapstructure:"watch_interval"`
	// BuildWorkers bounds the CPU of a build while the server serves: the
	// goroutines decoding and parsing at once (the files take turns) and the
	// join's goroutines.
	BuildWorkers int `mapstructure:"build_workers"`
	// MemoryBudgetBytes bounds a build while the server serves: the join
	// works in rounds of at most this much, and a set that would need more
	// fails the build.
	MemoryBudgetBytes int64 `mapstructure:"memory_budget_bytes"`
	// Rules decide the discount of a valid code.
	Rules RulesConfig `mapstructure:"rules"`

	// rules are Rules compiled by Validate, the only place they are parsed.
	rules *ruleBook
}

// Load modes.
const (
	LoadBlocking   = "blocking"
	LoadBackground = "background"
)

// minMemoryBudget keeps a budget typo ("256" meant as MiB) from turning
// every build into thousands of join rounds.
const minMemoryBudget = 16 << 20

// Validate checks files, modes and every rule, and compiles the rules for
// the service.
func (c *Config) Validate() error {
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
	if c.WatchInterval < 0 {
		errs = append(errs, config.Invalid("watch_interval", "must be 0 (off) or more, got %s", c.WatchInterval))
	}
	errs = append(errs, config.Positive("build_workers", c.BuildWorkers))
	if c.MemoryBudgetBytes < minMemoryBudget {
		errs = append(errs, config.Invalid("memory_budget_bytes", "must be at least %d (16 MiB), got %d", minMemoryBudget, c.MemoryBudgetBytes))
	}
	book, ruleErrs := c.Rules.compile()
	errs = append(errs, ruleErrs...)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.rules = book
	return nil
}

var _ config.Validator = (*Config)(nil)

// Check reports coupon files the server could not read (start-up would
// refuse them, so `config validate` does too) and an index path where no
// index can be written (the server would then build the set on every
// start: minutes with the real files).
func (c Config) Check(string) error {
	var errs []error
	for i, f := range c.Files {
		if err := readable(f); err != nil {
			errs = append(errs, config.Invalid(fmt.Sprintf("files[%d]", i), "%q cannot be read: %v", f, err))
		}
	}
	if c.IndexPath != "" {
		if err := couponset.CheckIndexPath(c.IndexPath); err != nil {
			errs = append(errs, config.Invalid("index_path", "no index can be written at %q: %v (create the directory and let the server write to it, or set it empty to build the set at every start)", c.IndexPath, err))
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
