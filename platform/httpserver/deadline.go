package httpserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is a request's deadline that costs nothing until someone
// waits on it. context.WithDeadline starts a timer for every request, and
// most reads are answered from memory without ever looking at Done; here
// the real deadline context is made the first time Done, AfterFunc or a
// decisive Err is asked for, and behaves as context.WithDeadline from then
// on. Deadline and Value need no timer and make none.
type lazyDeadline struct {
	context.Context // the parent
	deadline        time.Time
	once            sync.Once
	real            atomic.Pointer[realDeadline]
}

type realDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// set gives a zero lazyDeadline its parent and a deadline timeout from now,
// in place, so it can be part of a larger value (the request's scope) at
// no allocation of its own.
func (l *lazyDeadline) set(parent context.Context, timeout time.Duration) {
	l.Context, l.deadline = parent, time.Now().Add(timeout)
}

func (l *lazyDeadline) start() context.Context {
	l.once.Do(func() {
		ctx, cancel := context.WithDeadline(l.Context, l.deadline)
		l.real.Store(&realDeadline{ctx: ctx, cancel: cancel})
	})
	return l.real.Load().ctx
}

// Deadline implements context.Context.
func (l *lazyDeadline) Deadline() (time.Time, bool) { return l.deadline, true }

// Done implements context.Context; it starts the timer.
func (l *lazyDeadline) Done() <-chan struct{} { return l.start().Done() }

// Err implements context.Context. Until the timer runs it answers without
// one while neither the parent nor the deadline says otherwise, so Err is
// never set while Done is open.
func (l *lazyDeadline) Err() error {
	if r := l.real.Load(); r != nil {
		return r.ctx.Err()
	}
	if l.Context.Err() == nil && time.Now().Before(l.deadline) {
		return nil
	}
	return l.start().Err()
}

// AfterFunc lets contexts derived from this one (context.WithCancel in a
// driver) hang on the real deadline context instead of a goroutine each.
func (l *lazyDeadline) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(l.start(), f)
}

// release stops the timer, if one ran; the request is over.
func (l *lazyDeadline) release() {
	if r := l.real.Load(); r != nil {
		r.cancel()
	}
}
