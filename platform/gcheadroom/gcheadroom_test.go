package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		headroom, live uint64
		base, want     int
	}{
		{64 * mb, 8 * mb, 100, 800},   // 8 MB live may grow by 64
		{64 * mb, 40 * mb, 100, 160},  // 40 MB live, likewise: the same headroom
		{64 * mb, 64 * mb, 100, 100},  // GOGC's own share is the headroom
		{64 * mb, 200 * mb, 100, 100}, // a large heap: GOGC as set
		{64 * mb, 16 * mb, 400, 400},  // the operator's GOGC=400 allows it already
		{64 * mb, 0, 100, 6400},       // before the first collection: 1 MB live
		{64 * mb, 3 * mb, 100, 2134},  // rounded up: at least the headroom
	} {
		if got := percentFor(c.headroom, c.live, c.base); got != c.want {
			t.Errorf("percentFor(%d MB, %d MB live, GOGC %d) = %d, want %d", c.headroom/mb, c.live/mb, c.base, got, c.want)
		}
	}
}

// keep is a live heap the tests control.
var keep [][]byte

// TestHeadroomFollowsTheLiveHeap checks on the real collector that the
// headroom raises GOGC while the live heap is small, lowers it back to the
// operator's as the live heap grows past the headroom, and that Stop puts
// it back.
func TestHeadroomFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keep = nil
	runtime.GC()
	h := Start(256 << 20)
	waitPercent(t, func(p int) bool { return p > 1000 }, "a small live heap")
	for range 48 {
		keep = append(keep, make([]byte, 8<<20)) // 384 MB live, past the headroom
	}
	waitPercent(t, func(p int) bool { return p == 100 }, "a live heap past the headroom")
	keep = nil
	waitPercent(t, func(p int) bool { return p > 1000 }, "the live heap small again")
	h.Stop()
	if p := GOGC(); p != 100 {
		t.Errorf("GOGC after Stop = %d, want 100", p)
	}
	runtime.GC()
	runtime.GC()
	if p := GOGC(); p != 100 {
		t.Errorf("GOGC after Stop and two collections = %d, want 100: the headroom still adjusts it", p)
	}
}

// TestOverlappingHeadrooms checks that the largest active headroom applies
// and that GOGC comes back only when the last holder stops.
func TestOverlappingHeadrooms(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keep = nil
	runtime.GC()
	small := Start(16 << 20)
	large := Start(512 << 20)
	waitPercent(t, func(p int) bool { return percentFor(512<<20, liveHeap(), 100)*7/8 <= p }, "a 512 MB headroom beside a 16 MB one")
	large.Stop()
	waitPercent(t, func(p int) bool { return p < percentFor(512<<20, liveHeap(), 100)/2 && p > 100 }, "the 16 MB headroom alone")
	small.Stop()
	small.Stop() // twice changes nothing
	if p := GOGC(); p != 100 {
		t.Errorf("GOGC after both stopped = %d, want 100", p)
	}
}

// TestHeadroomLeavesOffAndZeroAlone checks that a zero headroom, GOGC=off
// and GOGC=0 change nothing.
func TestHeadroomLeavesOffAndZeroAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		name  string
		gogc  int
		bytes uint64
	}{{"no headroom", 100, 0}, {"GOGC=off", -1, 64 << 20}, {"GOGC=0", 0, 64 << 20}} {
		debug.SetGCPercent(c.gogc)
		h := Start(c.bytes)
		runtime.GC()
		runtime.GC()
		if p := GOGC(); p != c.gogc {
			t.Errorf("%s: GOGC = %d, want %d", c.name, p, c.gogc)
		}
		h.Stop()
	}
}

// waitPercent collects until GOGC satisfies ok; the headroom adjusts it
// from a cleanup after each collection, on a goroutine of its own.
func waitPercent(t *testing.T, ok func(int) bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if ok(GOGC()) {
			return
		}
	}
	t.Fatalf("with %s, GOGC stayed %d", what, GOGC())
}
