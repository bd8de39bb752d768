package heapfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		floor, live uint64
		base, want  int
	}{
		{64 * mb, 8 * mb, 100, 700},   // target 8 + 56 = 64 MB
		{64 * mb, 32 * mb, 100, 100},  // GOGC's own target is the floor
		{64 * mb, 200 * mb, 100, 100}, // a large heap: GOGC as set
		{64 * mb, 16 * mb, 400, 400},  // the operator's GOGC=400 reaches it already
		{64 * mb, 0, 100, 6300},       // before the first collection: 1 MB live
	} {
		if got := percentFor(c.floor, c.live, c.base); got != c.want {
			t.Errorf("percentFor(%d MB, %d MB live, GOGC %d) = %d, want %d", c.floor/mb, c.live/mb, c.base, got, c.want)
		}
	}
}

// keep is a live heap the tests control.
var keep [][]byte

// TestFloorFollowsTheLiveHeap checks on the real collector that the floor
// raises GOGC while the live heap is small, lowers it back to the
// operator's as the live heap grows past the floor, and that Stop puts it
// back.
func TestFloorFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keep = nil
	runtime.GC()
	f := Start(256 << 20)
	waitPercent(t, func(p int) bool { return p > 1000 }, "a small live heap")
	for range 48 {
		keep = append(keep, make([]byte, 8<<20)) // 384 MB live, past the floor
	}
	waitPercent(t, func(p int) bool { return p == 100 }, "a live heap past the floor")
	keep = nil
	waitPercent(t, func(p int) bool { return p > 1000 }, "the live heap small again")
	f.Stop()
	if p := gcPercent(); p != 100 {
		t.Errorf("GOGC after Stop = %d, want 100", p)
	}
	runtime.GC()
	runtime.GC()
	if p := gcPercent(); p != 100 {
		t.Errorf("GOGC after Stop and two collections = %d, want 100: the floor still adjusts it", p)
	}
}

// TestFloorLeavesOffAndZeroAlone checks that a zero floor, GOGC=off and
// GOGC=0 change nothing.
func TestFloorLeavesOffAndZeroAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		name  string
		gogc  int
		bytes uint64
	}{{"no floor", 100, 0}, {"GOGC=off", -1, 64 << 20}, {"GOGC=0", 0, 64 << 20}} {
		debug.SetGCPercent(c.gogc)
		f := Start(c.bytes)
		runtime.GC()
		runtime.GC()
		if p := gcPercent(); p != c.gogc {
			t.Errorf("%s: GOGC = %d, want %d", c.name, p, c.gogc)
		}
		f.Stop()
	}
}

// waitPercent collects until GOGC satisfies ok; the floor adjusts it from a
// cleanup after each collection, on a goroutine of its own.
func waitPercent(t *testing.T, ok func(int) bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if ok(gcPercent()) {
			return
		}
	}
	t.Fatalf("with %s, GOGC stayed %d", what, gcPercent())
}

// TestOverlappingFloors checks that the largest active floor applies and
// that GOGC comes back only when the last floor stops.
func TestOverlappingFloors(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keep = nil
	runtime.GC()
	small := Start(16 << 20)
	large := Start(512 << 20)
	waitPercent(t, func(p int) bool { return percentFor(512<<20, liveHeap(), 100)*7/8 <= p }, "a 512 MB floor beside a 16 MB one")
	large.Stop()
	waitPercent(t, func(p int) bool { return p < percentFor(512<<20, liveHeap(), 100)/2 && p > 100 }, "the 16 MB floor alone")
	small.Stop()
	small.Stop() // twice changes nothing
	if p := gcPercent(); p != 100 {
		t.Errorf("GOGC after both stopped = %d, want 100", p)
	}
}
