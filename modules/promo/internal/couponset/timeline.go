package couponset

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Phase is one line of a build's timeline: a file's inflating or parsing,
// the spill writes, the join, the index write. Phases overlap (the files are
// decoded at once), so their CPU adds up to more than the wall time of the
// build when several processors work.
type Phase struct {
	// Name says what ran: "inflate couponbase1.gz", "parse couponbase1.gz",
	// "spill writes", "join", "write index".
	Name string
	// Start and End are offsets from the start of the build: the first and
	// the last moment the phase ran.
	Start, End time.Duration
	// Busy is the wall time the phase's work took, summed over its steps
	// (a file's reads, or its parsing, or each spill write); it is at most
	// End-Start for work done by one goroutine at a time.
	Busy time.Duration
	// CPU is the processor time the phase used: the threads that ran it
	// (and a child decoder process, for igzip).
	CPU time.Duration
}

// timeline collects the phases of one build. Steps are timed on their own
// thread (see step), so the CPU of phases running at once is told apart.
type timeline struct {
	start  time.Time
	mu     sync.Mutex
	phases []*phaseClock
}

func newTimeline(start time.Time) *timeline { return &timeline{start: start} }

// phase returns the clock of a new phase; it is shown in the order created.
func (t *timeline) phase(name string) *phaseClock {
	if t == nil {
		return nil
	}
	p := &phaseClock{name: name, origin: t.start}
	t.mu.Lock()
	t.phases = append(t.phases, p)
	t.mu.Unlock()
	return p
}

// result lists the phases that ran.
func (t *timeline) result() []Phase {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Phase
	for _, p := range t.phases {
		first := p.first.Load()
		if first == 0 {
			continue
		}
		out = append(out, Phase{
			Name: p.name, Start: time.Duration(first - 1), End: time.Duration(p.last.Load()),
			Busy: time.Duration(p.busy.Load()), CPU: time.Duration(p.cpu.Load()),
		})
	}
	return out
}

// phaseClock accumulates one phase; its methods are safe for concurrent
// use and do nothing on a nil clock.
type phaseClock struct {
	name   string
	origin time.Time
	first  atomic.Int64 // offset+1 of the first step; 0 = none yet
	last   atomic.Int64
	busy   atomic.Int64
	cpu    atomic.Int64
}

// stepTimer measures one step of a phase on the calling goroutine's thread.
type stepTimer struct {
	p      *phaseClock
	wall   time.Time
	cpu    time.Duration
	locked bool
}

// begin starts a step; end must follow on the same goroutine. The goroutine
// stays on its thread in between so that the thread's CPU clock is its own.
func (p *phaseClock) begin() stepTimer {
	if p == nil {
		return stepTimer{}
	}
	runtime.LockOSThread()
	return stepTimer{p: p, wall: time.Now(), cpu: threadCPU(), locked: true}
}

// end records the step begun by s.
func (s stepTimer) end() {
	if s.p == nil {
		return
	}
	cpu := threadCPU() - s.cpu
	now := time.Now()
	if s.locked {
		runtime.UnlockOSThread()
	}
	s.p.record(s.wall, now, cpu)
}

// record adds a step that ran from start to end and used cpu.
func (p *phaseClock) record(start, end time.Time, cpu time.Duration) {
	if p == nil {
		return
	}
	from, to := int64(start.Sub(p.origin)), int64(end.Sub(p.origin))
	p.first.CompareAndSwap(0, from+1)
	for {
		f := p.first.Load()
		if f-1 <= from || p.first.CompareAndSwap(f, from+1) {
			break
		}
	}
	for {
		l := p.last.Load()
		if l >= to || p.last.CompareAndSwap(l, to) {
			break
		}
	}
	p.busy.Add(to - from)
	p.cpu.Add(int64(cpu))
}

// addCPU adds processor time spent outside this process's measured steps
// (a child decoder).
func (p *phaseClock) addCPU(d time.Duration) {
	if p != nil {
		p.cpu.Add(int64(d))
	}
}

// span records a phase run by the calling goroutine alone from start to
// now, with the process's CPU over that time (the join and the index write
// run while nothing else of the build does).
func (p *phaseClock) span(start time.Time, cpu0 time.Duration) {
	p.record(start, time.Now(), processCPU()-cpu0)
}
