package couponset

import (
	"context"
	"runtime"
	"testing"
)

// TestExtraProcRestores checks that a build leaves GOMAXPROCS as it found
// it, whether it was set explicitly or not.
func TestExtraProcRestores(t *testing.T) {
	defer runtime.SetDefaultGOMAXPROCS()
	files := writeFiles(t, t.TempDir(), "BIRTHDAY\n", "BIRTHDAY\n", "BIRTHDAY\n", "BIRTHDAY\n")
	for _, procs := range []int{1, 2, 0} {
		if procs > 0 {
			runtime.GOMAXPROCS(procs)
		} else {
			runtime.SetDefaultGOMAXPROCS()
		}
		before := runtime.GOMAXPROCS(0)
		if _, _, err := Build(context.Background(), Options{Files: files, TempDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != before {
			t.Errorf("GOMAXPROCS %d after the build, %d before", got, before)
		}
	}
}
