// Package gcheadroom gives Go's garbage collector a minimum headroom: the
// heap may grow by at least a fixed number of bytes past what the last
// collection found live before the next collection starts.
//
// With GOGC=100 the collector runs each time the heap doubles. A server that
// keeps a few megabytes live (its catalogue, its API document, its metrics)
// and allocates a few kilobytes a request then collects dozens of times a
// second under load, and each cycle marks the whole live heap again; a server
// with more live (a larger catalogue) collects less often for the same
// requests. A headroom H makes the heap target live + max(H, what GOGC
// allows): the collector runs at most once per H of allocation whatever is
// live, and exactly as before once GOGC's share is larger. It costs at most H
// beyond what is live. A memory limit (GOMEMLIMIT) still wins, and GOGC=off
// leaves the collector off.
package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Headroom is one holder of a minimum headroom. Holders may overlap (several
// servers in one test process): the largest active headroom applies, the
// first Start takes GOGC as the operator set it, and the last Stop puts it
// back.
type Headroom struct{ bytes uint64 }

// state is the process's: GOGC is process-wide.
var state struct {
	sync.Mutex
	active map[*Headroom]struct{}
	base   int // GOGC as the operator set it, read by the first Start
	gen    int // which chain of cleanups is current
}

// Start sets a minimum headroom of bytes until Stop: none when bytes is 0,
// or when GOGC is off or 0 (the operator asked for no collections, or for
// nothing but).
func Start(bytes uint64) *Headroom {
	h := &Headroom{bytes: bytes}
	if bytes == 0 {
		return h
	}
	state.Lock()
	defer state.Unlock()
	first := len(state.active) == 0
	if first {
		state.base = GOGC()
		if state.base <= 0 {
			return h
		}
		state.active = map[*Headroom]struct{}{}
	}
	state.active[h] = struct{}{}
	if first {
		state.gen++
		adjust(state.gen)
	}
	return h
}

// Stop ends h; the last holder to stop puts GOGC back to what it was
// before the first started.
func (h *Headroom) Stop() {
	state.Lock()
	defer state.Unlock()
	if _, ok := state.active[h]; !ok {
		return
	}
	delete(state.active, h)
	if len(state.active) == 0 {
		state.gen++ // the pending cleanup ends its chain
		debug.SetGCPercent(state.base)
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
	var headroom uint64
	for h := range state.active {
		headroom = max(headroom, h.bytes)
	}
	p, cur := percentFor(headroom, liveHeap(), state.base), GOGC()
	// Small moves are not worth a call into the collector's pacer.
	if d := p - cur; d > cur/8 || -d > cur/8 {
		debug.SetGCPercent(p)
	}
	runtime.AddCleanup(new(cycleMark), func(gen int) {
		state.Lock()
		defer state.Unlock()
		adjust(gen)
	}, gen)
}

// percentFor is the GOGC that lets the heap grow by headroom past live
// (live × GOGC/100 = headroom), or base when base lets it grow more.
func percentFor(headroom, live uint64, base int) int {
	if live == 0 {
		live = 1 << 20
	}
	return max(base, int((headroom*100+live-1)/live))
}

// liveHeap is the heap the last collection marked live.
func liveHeap() uint64 { return read("/gc/heap/live:bytes").Uint64() }

// GOGC is GOGC as it stands: the environment variable's value, or what
// debug.SetGCPercent last set; -1 when the collector is off.
func GOGC() int {
	// GOGC=off reads as the largest uint64, that is -1.
	return int(int64(read("/gc/gogc:percent").Uint64()))
}

// read is one runtime metric's current value.
func read(name string) metrics.Value {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value
}
