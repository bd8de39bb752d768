package httpserver

import (
	"runtime"
	"runtime/debug"
	"testing"

	"go.uber.org/fx/fxtest"

	"minikart/platform/gcheadroom"
)

// TestServerRunsWithAGCHeadroom checks that server.gc_headroom_bytes raises
// GOGC while the server runs (this test process's live heap is a few MB)
// and that stopping puts the operator's GOGC back; 0 leaves it alone.
func TestServerRunsWithAGCHeadroom(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		bytes  int64
		raised bool
	}{{64 << 20, true}, {0, false}} {
		lc := fxtest.NewLifecycle(t)
		startGCHeadroom(lc, Config{GCHeadroomBytes: c.bytes})
		lc.RequireStart()
		runtime.GC()
		if got := gcheadroom.GOGC(); (got > 100) != c.raised {
			t.Errorf("gc_headroom_bytes %d: GOGC while serving = %d, want raised %v", c.bytes, got, c.raised)
		}
		lc.RequireStop()
		if got := gcheadroom.GOGC(); got != 100 {
			t.Errorf("gc_headroom_bytes %d: GOGC after stopping = %d, want 100", c.bytes, got)
		}
	}
}
