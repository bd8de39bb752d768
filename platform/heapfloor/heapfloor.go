// Package heapfloor keeps Go's garbage collector from running while the heap
// is smaller than a floor, for a server whose live heap is small.
//
// With GOGC=100 the collector runs each time the heap doubles. A server that
// keeps a few megabytes live (its catalogue, its API document, its metrics)
// and allocates a few kilobytes a request then collects dozens of times a
// second under load, and each cycle marks the whole live heap again. A floor
// makes the heap target max(floor, what GOGC says): the collector runs once
// per floor's worth of allocation while the live heap is small, and exactly
// as before once it is large, so the memory the floor costs is at most the
// floor. A memory limit (GOMEMLIMIT) still wins over the floor, and GOGC=off
// leaves the collector off.
package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Floor is one holder of a heap floor. Floors may overlap (several servers
// in one test process): the largest active floor applies, the first Start
// takes GOGC as the operator set it, and the last Stop puts it back.
type Floor struct{ bytes uint64 }

// state is the process's: GOGC is process-wide.
var state struct {
	sync.Mutex
	active  map[*Floor]struct{}
	base    int // GOGC as the operator set it, read by the first Start
	percent int // GOGC as last set
	gen     int // which chain of cleanups is current
}

// Start sets a heap floor of bytes until Stop: none when bytes is 0, or
// when GOGC is off or 0 (the operator asked for no collections, or for
// nothing but).
func Start(bytes uint64) *Floor {
	f := &Floor{bytes: bytes}
	if bytes == 0 {
		return f
	}
	state.Lock()
	defer state.Unlock()
	if len(state.active) == 0 {
		state.base = gcPercent()
		state.percent = state.base
		if state.base <= 0 {
			return f
		}
		state.active = map[*Floor]struct{}{}
		state.gen++
		state.active[f] = struct{}{}
		adjust(state.gen)
		return f
	}
	state.active[f] = struct{}{}
	return f
}

// Stop ends f; the last floor to end puts GOGC back to what it was before
// the first started.
func (f *Floor) Stop() {
	state.Lock()
	defer state.Unlock()
	if _, ok := state.active[f]; !ok {
		return
	}
	delete(state.active, f)
	if len(state.active) == 0 {
		state.gen++ // the pending cleanup ends its chain
		debug.SetGCPercent(state.base)
		state.percent = state.base
	}
}

// cycleMark is allocated for each collection and dropped at once: its
// cleanup runs after the collection that found it unreachable. It holds a
// pointer so that it is not batched with other tiny objects.
type cycleMark struct{ _ *byte }

// adjust sets GOGC from the live heap the last collection found, then waits
// for the next collection, as chain gen. state is held.
func adjust(gen int) {
	if gen != state.gen {
		return
	}
	var floor uint64
	for f := range state.active {
		floor = max(floor, f.bytes)
	}
	p := percentFor(floor, liveHeap(), state.base)
	// Small moves are not worth a call into the collector's pacer.
	if d := p - state.percent; d > state.percent/8 || -d > state.percent/8 {
		debug.SetGCPercent(p)
		state.percent = p
	}
	runtime.AddCleanup(new(cycleMark), func(gen int) {
		state.Lock()
		defer state.Unlock()
		adjust(gen)
	}, gen)
}

// percentFor is the GOGC that puts the heap target (live × (1 + GOGC/100))
// at floor, or base when base's target is at the floor already.
func percentFor(floor, live uint64, base int) int {
	if live == 0 {
		live = 1 << 20
	}
	if live*uint64(100+base)/100 >= floor {
		return base
	}
	return int((floor - live) * 100 / live)
}

var (
	liveSample    = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	percentSample = []metrics.Sample{{Name: "/gc/gogc:percent"}}
	sampleMu      sync.Mutex
)

// liveHeap is the heap the last collection marked live.
func liveHeap() uint64 {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	metrics.Read(liveSample)
	return liveSample[0].Value.Uint64()
}

// gcPercent is GOGC as it stands: the environment variable's value, or what
// debug.SetGCPercent last set; -1 when the collector is off.
func gcPercent() int {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	metrics.Read(percentSample)
	// GOGC=off reads as the largest uint64, that is -1.
	return int(int64(percentSample[0].Value.Uint64()))
}
