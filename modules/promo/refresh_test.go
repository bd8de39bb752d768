package promo

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"go.uber.org/fx/fxtest"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/health"
)

// couponDir holds two coupon files and the index of a refresh test.
type couponDir struct {
	t     *testing.T
	dir   string
	files []string
}

func newCouponDir(t *testing.T) *couponDir {
	d := &couponDir{t: t, dir: t.TempDir()}
	d.files = []string{filepath.Join(d.dir, "a.gz"), filepath.Join(d.dir, "b.gz")}
	return d
}

// put replaces both files, the way a deploy should: written beside them
// and renamed over them, so a reader sees the old file or the new one.
func (d *couponDir) put(codes ...string) {
	d.t.Helper()
	for i, f := range d.files {
		content := strings.Join(append([]string{"ONLYIN" + string(rune('A'+i)) + "00"}, codes...), "\n") + "\n"
		d.write(f, gzipped(d.t, content))
	}
}

func (d *couponDir) write(path string, data []byte) {
	d.t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		d.t.Fatal(err)
	}
}

func (d *couponDir) config() Config {
	return Config{
		Files: d.files, MinFiles: 2, Load: LoadBlocking, Decoder: "gzip",
		IndexPath: filepath.Join(d.dir, "coupons.idx"), BuildWorkers: 1, MemoryBudgetBytes: 64 << 20,
	}
}

func gzipped(t *testing.T, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// countingLoad counts the builds and, while gate is open-ended, holds each
// until gate delivers.
func countingLoad(n *atomic.Int32, gate <-chan struct{}) func(context.Context, couponset.Options) (*couponset.Set, couponset.Stats, error) {
	return func(ctx context.Context, o couponset.Options) (*couponset.Set, couponset.Stats, error) {
		n.Add(1)
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, couponset.Stats{}, ctx.Err()
			}
		}
		return couponset.Load(ctx, o)
	}
}

// accepts reports whether Apply takes code.
func accepts(t *testing.T, s *Service, code string) bool {
	t.Helper()
	_, err := s.Apply(context.Background(), code, lines)
	if err != nil && !errors.Is(err, ErrInvalidPromoCode) {
		t.Fatalf("Apply(%q): %v", code, err)
	}
	return err == nil
}

func TestRefreshBuildsBesideTheServedSetThenSwaps(t *testing.T) {
	d := newCouponDir(t)
	d.put("OLDCODE1", "KEEPCODE")
	s, m := newTestService(t)
	c := d.config()
	ctx := context.Background()
	if err := s.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	if !accepts(t, s, "OLDCODE1") || accepts(t, s, "NEWCODE1") {
		t.Fatal("first set wrong")
	}

	d.put("NEWCODE1", "KEEPCODE")
	gate := make(chan struct{})
	var builds atomic.Int32
	s.loadSet = countingLoad(&builds, gate)
	done := make(chan struct{})
	go func() { s.refresh(ctx, c, zerolog.Nop(), false); close(done) }()
	for builds.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The new set is building: the old one answers, whole.
	if !accepts(t, s, "OLDCODE1") || accepts(t, s, "NEWCODE1") || !accepts(t, s, "KEEPCODE") {
		t.Error("during the build, the served set was not the old one")
	}
	close(gate)
	<-done
	if accepts(t, s, "OLDCODE1") || !accepts(t, s, "NEWCODE1") || !accepts(t, s, "KEEPCODE") {
		t.Error("after the swap, the served set is not the new one")
	}
	if got := testutil.ToFloat64(m.generation); got != 2 {
		t.Errorf("coupon_set_generation = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.codes); got != 2 {
		t.Errorf("coupon_set_codes = %v, want 2", got)
	}
	// The new index was written: another process opens it without building.
	if _, _, err := couponset.OpenIndex(couponset.Options{Files: c.Files, MinFiles: 2, IndexPath: c.IndexPath}); err != nil {
		t.Errorf("index of the new set: %v", err)
	}
	// Nothing changed since: a check builds nothing.
	s.refresh(ctx, c, zerolog.Nop(), false)
	if builds.Load() != 1 {
		t.Errorf("%d builds, want 1", builds.Load())
	}
}

func TestRefreshKeepsServingWhenTheNewFilesAreBad(t *testing.T) {
	d := newCouponDir(t)
	d.put("OLDCODE1")
	s, m := newTestService(t)
	c := d.config()
	ctx := context.Background()
	if err := s.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	var builds atomic.Int32
	s.loadSet = countingLoad(&builds, nil)
	check := newCheck(s)

	good := gzipped(t, "NEWCODE1\nONLYINB00\n")
	d.write(d.files[1], good[:len(good)/2]) // truncated
	s.refresh(ctx, c, zerolog.Nop(), false)
	res := check.Probe(ctx)
	if !accepts(t, s, "OLDCODE1") || res.Status != health.Degraded || !strings.Contains(res.Error, "b.gz") {
		t.Errorf("after a truncated file: old set served %t, health %+v", accepts(t, s, "OLDCODE1"), res)
	}
	if strings.Contains(res.Error, d.dir) {
		t.Errorf("health names a server path: %q", res.Error)
	}
	if got := testutil.ToFloat64(m.failures); got != 1 {
		t.Errorf("coupon_set_build_failures_total = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.generation); got != 1 {
		t.Errorf("coupon_set_generation = %v, want 1", got)
	}

	// The same bad files are not built again on every tick; SIGHUP forces it.
	s.refresh(ctx, c, zerolog.Nop(), false)
	if builds.Load() != 1 {
		t.Errorf("unchanged bad files built %d times, want 1", builds.Load())
	}
	s.refresh(ctx, c, zerolog.Nop(), true)
	if builds.Load() != 2 || testutil.ToFloat64(m.failures) != 2 {
		t.Errorf("a forced check: %d builds, %v failures; want 2 and 2", builds.Load(), testutil.ToFloat64(m.failures))
	}

	// The next change is retried, and a good set clears the degradation.
	d.put("NEWCODE1")
	s.refresh(ctx, c, zerolog.Nop(), false)
	if !accepts(t, s, "NEWCODE1") || accepts(t, s, "OLDCODE1") || check.Probe(ctx).Status != health.OK {
		t.Errorf("after good files: health %+v", check.Probe(ctx))
	}
}

func TestRefreshRejectsASetOverTheMemoryBudget(t *testing.T) {
	d := newCouponDir(t)
	d.put("OLDCODE1")
	s, _ := newTestService(t)
	c := d.config()
	ctx := context.Background()
	if err := s.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	var many []string
	for i := range 2000 {
		many = append(many, "CODEX"+string(rune('A'+i%26))+string(rune('A'+i/26%26))+string(rune('A'+i/676)))
	}
	d.put(many...)
	s.loadSet = func(ctx context.Context, o couponset.Options) (*couponset.Set, couponset.Stats, error) {
		o.MaxSetBytes = 1 << 10 // the same cap as memory_budget_bytes, smaller than 16 MiB allows
		return couponset.Load(ctx, o)
	}
	s.refresh(ctx, c, zerolog.Nop(), false)
	res := newCheck(s).Probe(ctx)
	if !accepts(t, s, "OLDCODE1") || res.Status != health.Degraded || !strings.Contains(res.Error, "memory_budget_bytes") {
		t.Errorf("over budget: health %+v", res)
	}
}

func TestWatchPicksUpChangesOnTheIntervalAndOnSIGHUP(t *testing.T) {
	for _, tt := range []struct {
		name     string
		interval time.Duration
		hup      bool
	}{
		{"every watch_interval", 20 * time.Millisecond, false},
		{"on SIGHUP with the timer off", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newCouponDir(t)
			d.put("OLDCODE1")
			s, m := newTestService(t)
			c := d.config()
			c.WatchInterval = tt.interval
			lc := fxtest.NewLifecycle(t)
			loadCouponSetsOnStart(lc, &fakeShutdowner{}, s, c, zerolog.Nop())
			lc.RequireStart()
			defer lc.RequireStop()
			d.put("NEWCODE1")
			if tt.hup {
				if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for testutil.ToFloat64(m.generation) != 2 {
				if time.Now().After(deadline) {
					t.Fatal("the new files were never swapped in")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if !accepts(t, s, "NEWCODE1") {
				t.Error("new code not accepted after the swap")
			}
		})
	}
}

func TestRefreshBuildsAgainWhenTheFilesChangeDuringTheBuild(t *testing.T) {
	d := newCouponDir(t)
	d.put("OLDCODE1")
	s, m := newTestService(t)
	c := d.config()
	ctx := context.Background()
	if err := s.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	d.put("NEWCODE1")
	var builds atomic.Int32
	s.loadSet = func(ctx context.Context, o couponset.Options) (*couponset.Set, couponset.Stats, error) {
		if builds.Add(1) == 1 {
			d.put("NEWER001") // the deploy goes on while the first build reads
			return nil, couponset.Stats{}, &couponset.FileError{Path: d.files[0], Err: couponset.ErrChanged}
		}
		return couponset.Load(ctx, o)
	}
	s.refresh(ctx, c, zerolog.Nop(), false)
	if builds.Load() != 2 || !accepts(t, s, "NEWER001") || accepts(t, s, "NEWCODE1") {
		t.Errorf("%d builds; NEWER001 accepted %t", builds.Load(), accepts(t, s, "NEWER001"))
	}
	if testutil.ToFloat64(m.failures) != 0 || newCheck(s).Probe(ctx).Status != health.OK {
		t.Error("a build that raced the deploy counted as a failure")
	}
}

func TestHealthInfoNamesTheSourceAndTheDecoder(t *testing.T) {
	d := newCouponDir(t)
	d.put("HAPPYHRS")
	c := d.config()
	ctx := context.Background()
	info := func(s *Service) map[string]string { return newCheck(s).Info() }

	built, _ := newTestService(t)
	if got := info(built); got != nil {
		t.Errorf("info before any load = %v, want none", got)
	}
	if err := built.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	if got := info(built); got["source"] != "build" || got["decoder"] != couponset.DecoderStd || got["codes"] != "1" || got["generation"] != "1" {
		t.Errorf("info after a build = %v, want source build, decoder %s, 1 code, generation 1", got, couponset.DecoderStd)
	}

	// A second server finds the index the first one wrote.
	indexed, _ := newTestService(t)
	if err := indexed.load(ctx, c, zerolog.Nop(), 0); err != nil {
		t.Fatal(err)
	}
	if got := info(indexed); got["source"] != "index" || got["decoder"] != couponset.DecoderStd {
		t.Errorf("info after an index load = %v, want source index and the decoder a rebuild runs (%s)", got, couponset.DecoderStd)
	}
}
