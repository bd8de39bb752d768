package couponset

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// pinProcs sets GOMAXPROCS to n, through the environment variable as an
// operator would, for the rest of the test.
func pinProcs(t *testing.T, n int) {
	t.Helper()
	t.Setenv("GOMAXPROCS", "")
	prev := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

// TestSpareProcAddsOnePUntilTheLastBuildEnds checks that spareProc runs
// one P more than the tokens while any build holds it, and that the last
// build to end puts back what the operator set.
func TestSpareProcAddsOnePUntilTheLastBuildEnds(t *testing.T) {
	pinProcs(t, 2)
	t.Setenv("GOMAXPROCS", "2")
	first := spareProc(2)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS during a build with 2 tokens = %d, want 3", got)
	}
	second := spareProc(2)
	first()
	first() // a second call changes nothing
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS while a second build runs = %d, want 3", got)
	}
	second()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS after the builds = %d, want the 2 the environment set", got)
	}
}

// TestSpareProcPutsBackTheRuntimeDefault checks that without the
// environment variable, GOMAXPROCS goes back to the runtime's default
// (which follows the CPU limit) rather than to a fixed number.
func TestSpareProcPutsBackTheRuntimeDefault(t *testing.T) {
	pinProcs(t, 1)
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(1)
	restore := spareProc(1)
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS during a build with 1 token = %d, want 2", got)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Fatalf("GOMAXPROCS after the build = %d, want the runtime default %d", got, def)
	}
}

// TestSpareProcLeavesEnoughAlone checks that a process that already runs
// more Ps than the tokens keeps its setting.
func TestSpareProcLeavesEnoughAlone(t *testing.T) {
	pinProcs(t, 4)
	restore := spareProc(2)
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Fatalf("GOMAXPROCS during a build with 2 tokens = %d, want the 4 set before", got)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Fatalf("GOMAXPROCS after the build = %d, want 4", got)
	}
}

// TestOnlyInProcessInflatesGetASpareP checks what each decoder's build
// runs on: with ISA-L (when compiled in) one P more than its workers while
// it reads, and afterwards what was set before; with a Go decoder, no
// change.
func TestOnlyInProcessInflatesGetASpareP(t *testing.T) {
	defer func(r int) { readBuf, afterRead = r, nil }(readBuf)
	readBuf = 4 << 10
	rng := rand.New(rand.NewPCG(21, 22))
	files := writeFiles(t, t.TempDir(), codesOf(rng, 20000, 8), codesOf(rng, 20000, 9))
	for _, decoder := range allDecoders(t) {
		if decoder == DecoderIgzip {
			continue // a child process inflates: no cgo call to guard
		}
		t.Run(decoder, func(t *testing.T) {
			pinProcs(t, 2)
			t.Setenv("GOMAXPROCS", "2")
			var most atomic.Int64
			afterRead = func() {
				if n := int64(runtime.GOMAXPROCS(0)); n > most.Load() {
					most.Store(n)
				}
			}
			mustBuild(t, Options{Files: files, Workers: 2, Decoder: decoder})
			want := int64(2)
			if decoder == DecoderISAL {
				want = 3
			}
			if got := most.Load(); got != want {
				t.Errorf("GOMAXPROCS during the %s build = %d, want %d", decoder, got, want)
			}
			if got := runtime.GOMAXPROCS(0); got != 2 {
				t.Errorf("GOMAXPROCS after the %s build = %d, want 2", decoder, got)
			}
		})
	}
}
