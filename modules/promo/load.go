package promo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/health"
	"minikart/platform/lifecycle"
)

// loadCouponSetsOnStart loads the coupon set in the start hook, then keeps
// it current while the server runs. Blocking mode holds start-up (and so
// the HTTP server, started after this hook) until the set is ready;
// background mode returns at once and a failure of that first load shuts
// the application down with a non-zero exit code. After the first load the
// files' fingerprint is checked every watch_interval and on SIGHUP, and a
// changed set is built beside the one serving and swapped in (refresh).
func loadCouponSetsOnStart(lc fx.Lifecycle, sd fx.Shutdowner, s *Service, c Config, log zerolog.Logger) {
	hup := make(chan os.Signal, 1)
	lc.Append(fx.Hook{
		OnStart: func(startCtx context.Context) error {
			if c.Load == LoadBlocking {
				// Nothing is served yet, so this build may use every
				// processor.
				if err := s.load(startCtx, c, log, 0); err != nil {
					return err
				}
			}
			signal.Notify(hup, syscall.SIGHUP)
			return nil
		},
		OnStop: func(context.Context) error {
			signal.Stop(hup)
			return nil
		},
	})
	// Started after the hook above, so after a blocking load; stopped
	// before it.
	lifecycle.Background(lc, func(ctx context.Context) {
		if c.Load == LoadBackground {
			if err := s.load(ctx, c, log, c.BuildWorkers); err != nil {
				if ctx.Err() == nil {
					log.Error().Err(err).Msg("coupon set failed to load; shutting down")
					_ = sd.Shutdown(fx.ExitCode(1))
				}
				return
			}
		}
		s.watch(ctx, c, log, hup)
	})
}

// watch checks the coupon files every c.WatchInterval (when positive) and
// whenever hup delivers, until ctx ends.
func (s *Service) watch(ctx context.Context, c Config, log zerolog.Logger, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if c.WatchInterval > 0 {
		t := time.NewTicker(c.WatchInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			s.refresh(ctx, c, log, false)
		case <-hup:
			log.Info().Msg("SIGHUP: checking the coupon files")
			s.refresh(ctx, c, log, true)
		}
	}
}

// maxSettle is how long the files must stay unchanged before a timed check
// builds them (at most the watch interval).
const maxSettle = 2 * time.Second

// refresh loads a new set when the files' fingerprint differs from the
// served set's. A fingerprint whose build failed is not built again until
// the files change once more, unless force (SIGHUP) asks for it. While the
// new set builds, the old one keeps answering.
func (s *Service) refresh(ctx context.Context, c Config, log zerolog.Logger, force bool) {
	fp, err := couponset.Fingerprint(c.Files, c.MinFiles)
	s.mu.Lock()
	live, failed := s.live, s.failed
	s.mu.Unlock()
	switch {
	case err != nil:
		// A file missing or unreadable (mid-copy): said once, not per tick.
		s.reject(log, err, true)
		return
	case fp == live:
		// Unchanged, or put back as they were after a rejected change.
		if s.problem.Swap(nil) != nil {
			log.Info().Msg("coupon files are back to the served set")
		}
		return
	case fp == failed && !force:
		return
	}
	for {
		if !force {
			var ok bool
			if fp, ok = s.settle(ctx, c, log, fp); !ok {
				return
			}
		}
		log.Info().Strs("files", c.Files).Msg("coupon files changed; building the new set while the current one serves")
		err := s.load(ctx, c, log, c.BuildWorkers)
		switch {
		case err == nil, ctx.Err() != nil:
			return
		case errors.Is(err, couponset.ErrChanged):
			// Replaced while being read: nothing wrong with the files,
			// build the version now in place.
			log.Info().Err(err).Msg("coupon files changed during the build; building again")
			force = false
			if fp, err = couponset.Fingerprint(c.Files, c.MinFiles); err != nil {
				s.reject(log, err, true)
				return
			}
			continue
		}
		s.mu.Lock()
		s.failed = fp
		s.mu.Unlock()
		s.reject(log, err, false)
		return
	}
}

// settle waits until the files stop changing, so that a deploy replacing
// them one by one does not build a mix of new and old files, and returns
// their fingerprint then. SIGHUP skips it: the operator says the files are
// in place.
func (s *Service) settle(ctx context.Context, c Config, log zerolog.Logger, fp string) (string, bool) {
	wait := min(maxSettle, c.WatchInterval)
	for {
		select {
		case <-ctx.Done():
			return "", false
		case <-time.After(wait):
		}
		again, err := couponset.Fingerprint(c.Files, c.MinFiles)
		if err != nil {
			s.reject(log, err, true)
			return "", false
		}
		if again == fp {
			return fp, true
		}
		fp = again
	}
}

// reject records a refresh that cannot go live: the served set stays, the
// failure is logged and counted, and /health says degraded. With quiet, a
// failure that repeats the current one is not logged or counted again.
func (s *Service) reject(log zerolog.Logger, err error, quiet bool) {
	msg := "new coupon files rejected, the previous set still serves: " + shortReason(err)
	if old := s.problem.Swap(&msg); quiet && old != nil && *old == msg {
		return
	}
	s.metrics.failures.Inc()
	log.Error().Err(err).Msg("coupon set refresh failed; the previous set keeps serving")
}

// shortReason names the failing file by its base name, or the budget, for
// /health, which must not print server paths.
func shortReason(err error) string {
	var fe *couponset.FileError
	var pe *fs.PathError
	switch {
	case errors.As(err, &fe) && errors.As(fe.Err, &pe):
		return filepath.Base(fe.Path) + ": missing or unreadable"
	case errors.As(err, &fe):
		return filepath.Base(fe.Path) + ": " + fe.Err.Error()
	case errors.Is(err, couponset.ErrOverBudget):
		return "the set is over promo.memory_budget_bytes"
	}
	return "see the server log"
}

// load builds (or reads from the index) the coupon set and swaps it in as
// the next generation. workers bounds the build's CPU (0: every processor).
func (s *Service) load(ctx context.Context, c Config, log zerolog.Logger, workers int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log.Info().Strs("files", c.Files).Int("min_files", c.MinFiles).Str("mode", c.Load).Msg("loading coupon set")
	start := time.Now()
	set, st, err := s.loadSet(ctx, couponset.Options{
		Files:        c.Files,
		MinFiles:     c.MinFiles,
		IndexPath:    c.IndexPath,
		Decoder:      c.Decoder,
		Workers:      workers,
		MemoryBudget: c.MemoryBudgetBytes,
		MaxSetBytes:  c.MemoryBudgetBytes,
		OnProgress: func(p couponset.Progress) {
			ev := log.Info().Str("file", p.File).
				Float64("mb_read", float64(p.CompressedRead)/1e6).
				Int64("lines", p.Lines)
			if el := time.Since(start).Seconds(); el > 0 {
				ev = ev.Float64("lines_per_s", float64(p.Lines)/el)
			}
			if p.CompressedTotal > 0 {
				ev = ev.Float64("pct", 100*float64(p.CompressedRead)/float64(p.CompressedTotal))
			}
			ev.Msg("coupon set progress")
		},
	})
	if err != nil {
		return fmt.Errorf("load coupon set: %w", err)
	}
	previous := 0
	if old := s.set.Load(); old != nil {
		previous = (*old).Len()
	}
	s.swapIn(set)
	s.generation++
	s.live, s.failed = st.Fingerprint, ""
	s.problem.Store(nil)
	s.metrics.observeLoad(set, st, s.generation)
	decoder := decoderOf(st, c.Decoder)
	s.about.Store(&map[string]string{
		"source":     sourceOf(st),
		"decoder":    decoder,
		"codes":      strconv.Itoa(set.Len()),
		"generation": strconv.FormatInt(s.generation, 10),
	})
	if st.IndexRebuilt {
		log.Warn().Str("index", c.IndexPath).Str("reason", st.IndexReason).Msg("coupon index not usable for these files; rebuilt it")
	}
	if st.IndexError != "" {
		// The set is good; only the next start will have to build again.
		log.Warn().Str("index", c.IndexPath).Str("error", st.IndexError).Msg("coupon index not written")
	}
	log.Info().Int64("generation", s.generation).Int("codes", set.Len()).Int("previous_codes", previous).
		Bool("from_index", st.FromIndex).Bool("waited_for_other_build", st.WaitedForBuild).
		Bool("index_rebuilt", st.IndexRebuilt).Int64("lines", st.Lines).Dur("duration", st.Duration).
		Str("decoder", decoder).Msg("coupon set swapped in")
	return nil
}

// decoderOf names the gzip decoder of a load: the one the build ran, or, for
// a set read from the index, the one a rebuild in this binary would run.
func decoderOf(st couponset.Stats, configured string) string {
	if st.Decoder != "" {
		return st.Decoder
	}
	d, err := couponset.ResolveDecoder(configured)
	if err != nil {
		return "none"
	}
	return d
}

// sourceOf says where a loaded set came from.
func sourceOf(st couponset.Stats) string {
	switch {
	case st.WaitedForBuild:
		return "index written by another build"
	case st.FromIndex:
		return "index"
	}
	return "build"
}

func newCheck(s *Service) health.Check {
	return health.Check{
		Name: "coupons",
		Probe: func(context.Context) health.Result {
			if !s.Ready() {
				return health.Result{Status: health.Loading}
			}
			if p := s.problem.Load(); p != nil {
				return health.Result{Status: health.Degraded, Error: *p}
			}
			return health.Result{Status: health.OK}
		},
		Info: func() map[string]string {
			if m := s.about.Load(); m != nil {
				return maps.Clone(*m)
			}
			return nil
		},
	}
}
