package couponset

import (
	"os"
	"runtime"
	"sync"
)

// spare is the process-wide state of spareProc: how many builds asked for a
// spare P, and what GOMAXPROCS was before the first of them raised it (0
// when it was high enough already).
var spare struct {
	sync.Mutex
	users int
	prev  int
}

// spareProc makes the process run at least n+1 Ps (GOMAXPROCS) until the
// returned function is called, for a build whose n tokens run in-process
// inflates.
//
// An ISA-L inflate is a cgo call, which the Go scheduler treats as a system
// call: the goroutine keeps its P, marked as in a system call, and sysmon
// takes the P away some 20 µs into the call whenever no other P is idle,
// wakes a spinning thread to look for work for it, and the goroutine has to
// find a P again when the call returns. With as many Ps as tokens, that
// happened to nearly every 1 MB inflate. One P more than the tokens leaves
// one idle, so sysmon lets the inflating goroutines keep theirs; the tokens
// still hold the build to n processors at once.
//
// Builds may overlap: the last one to finish puts GOMAXPROCS back, to the
// runtime's own default (which follows the CPU limit) unless the GOMAXPROCS
// environment variable set it.
func spareProc(n int) (restore func()) {
	spare.Lock()
	defer spare.Unlock()
	if spare.users == 0 {
		spare.prev = 0
		if cur := runtime.GOMAXPROCS(0); cur <= n {
			spare.prev = cur
			runtime.GOMAXPROCS(n + 1)
		}
	}
	spare.users++
	var once sync.Once
	return func() {
		once.Do(func() {
			spare.Lock()
			defer spare.Unlock()
			if spare.users--; spare.users > 0 || spare.prev == 0 {
				return
			}
			if os.Getenv("GOMAXPROCS") == "" {
				runtime.SetDefaultGOMAXPROCS()
			} else {
				runtime.GOMAXPROCS(spare.prev)
			}
		})
	}
}
