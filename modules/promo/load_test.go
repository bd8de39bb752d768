package promo

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"minikart/modules/promo/internal/couponset"
	"minikart/platform/health"
)

// sampleFiles are the committed sample coupon files.
func sampleFiles() []string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	var out []string
	for _, n := range []string{"couponbase1.gz", "couponbase2.gz", "couponbase3.gz"} {
		out = append(out, filepath.Join(root, "data", "coupons", n))
	}
	return out
}

// gatedLoad loads the real sample set once gate is closed.
func gatedLoad(gate <-chan struct{}) func(context.Context, couponset.Options) (*couponset.Set, couponset.Stats, error) {
	return func(ctx context.Context, o couponset.Options) (*couponset.Set, couponset.Stats, error) {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, couponset.Stats{}, ctx.Err()
		}
		return couponset.Load(ctx, o)
	}
}

// fakeShutdowner records that a shutdown was asked for.
type fakeShutdowner struct{ code atomic.Int32 }

func (f *fakeShutdowner) Shutdown(...fx.ShutdownOption) error {
	f.code.Store(1)
	return nil
}

func loadConfig(mode string) Config {
	return Config{Files: sampleFiles(), MinFiles: 2, Load: mode, Decoder: "auto", Rules: RulesConfig{Default: Rule{Discount: "10%"}}}
}

func TestBackgroundLoadServesUnavailableUntilReady(t *testing.T) {
	s, m := newTestService(t)
	gate := make(chan struct{})
	s.loadSet = gatedLoad(gate)
	lc := fxtest.NewLifecycle(t)
	loadCouponSetsOnStart(lc, &fakeShutdowner{}, s, loadConfig(LoadBackground), zerolog.Nop())
	lc.RequireStart()

	check := newCheck(s)
	if s.Ready() || check.Probe(context.Background()).Status != health.Loading {
		t.Fatal("ready before the set was loaded")
	}
	if _, err := s.Apply(context.Background(), "HAPPYHRS", nil); !errors.Is(err, ErrPromoUnavailable) {
		t.Errorf("Apply while loading = %v, want ErrPromoUnavailable", err)
	}
	close(gate)
	deadline := time.Now().Add(10 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if q, err := s.Apply(context.Background(), " happyhrs ", []Line{{UnitPrice: 1000, Quantity: 1}}); err != nil || q.Code != "HAPPYHRS" {
		t.Errorf("Apply once ready = %+v, %v", q, err)
	}
	if check.Probe(context.Background()).Status != health.OK {
		t.Error("health check not OK once ready")
	}
	if got := testutil.ToFloat64(m.codes); got != 8 {
		t.Errorf("coupon_set_codes = %v, want 8", got)
	}
	lc.RequireStop()
}

func TestBlockingLoadHoldsStart(t *testing.T) {
	s, _ := newTestService(t)
	lc := fxtest.NewLifecycle(t)
	loadCouponSetsOnStart(lc, &fakeShutdowner{}, s, loadConfig(LoadBlocking), zerolog.Nop())
	lc.RequireStart()
	if !s.Ready() {
		t.Error("start returned before the set was loaded")
	}
	lc.RequireStop()
}

func TestBackgroundLoadFailureShutsDown(t *testing.T) {
	s, _ := newTestService(t)
	s.loadSet = func(context.Context, couponset.Options) (*couponset.Set, couponset.Stats, error) {
		return nil, couponset.Stats{}, errors.New("coupon file x.gz: unexpected EOF")
	}
	sd := &fakeShutdowner{}
	lc := fxtest.NewLifecycle(t)
	loadCouponSetsOnStart(lc, sd, s, loadConfig(LoadBackground), zerolog.Nop())
	lc.RequireStart()
	deadline := time.Now().Add(5 * time.Second)
	for sd.code.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a failed background load did not shut the application down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.Ready() {
		t.Error("ready after a failed load")
	}
	lc.RequireStop()
}

func TestStopCancelsABackgroundLoad(t *testing.T) {
	s, _ := newTestService(t)
	s.loadSet = gatedLoad(make(chan struct{})) // never opens
	sd := &fakeShutdowner{}
	lc := fxtest.NewLifecycle(t)
	loadCouponSetsOnStart(lc, sd, s, loadConfig(LoadBackground), zerolog.Nop())
	lc.RequireStart()
	lc.RequireStop() // returns only once the load goroutine has ended
	if sd.code.Load() != 0 {
		t.Error("a load canceled by stop asked for a shutdown")
	}
}
