package httpserver

import (
	"context"
	"errors"
	"testing"
	"time"
)

// withLazyDeadline is parent with a deadline timeout from now, on its own
// (the server's is part of the request's scope).
func withLazyDeadline(parent context.Context, timeout time.Duration) *lazyDeadline {
	l := new(lazyDeadline)
	l.set(parent, timeout)
	return l
}

func TestLazyDeadlineStartsNoTimerUntilAsked(t *testing.T) {
	l := withLazyDeadline(context.Background(), time.Hour)
	if d, ok := l.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Deadline = %v, %t", d, ok)
	}
	if l.Err() != nil || l.Value(scopeKey{}) != nil {
		t.Errorf("Err = %v", l.Err())
	}
	if l.real.Load() != nil {
		t.Error("Deadline, Err and Value started a timer")
	}
	l.release()
}

func TestLazyDeadlineExpires(t *testing.T) {
	l := withLazyDeadline(context.Background(), 20*time.Millisecond)
	defer l.release()
	child, cancel := context.WithCancel(l)
	defer cancel()
	<-l.Done()
	if !errors.Is(l.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want deadline exceeded", l.Err())
	}
	<-child.Done()
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Errorf("derived Err = %v, want deadline exceeded", child.Err())
	}
}

func TestLazyDeadlinePassedWithoutWaiting(t *testing.T) {
	l := withLazyDeadline(context.Background(), time.Millisecond)
	defer l.release()
	time.Sleep(5 * time.Millisecond)
	if !errors.Is(l.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want deadline exceeded", l.Err())
	}
	select {
	case <-l.Done():
	default:
		t.Error("Err is set while Done is open")
	}
}

func TestLazyDeadlineFollowsItsParent(t *testing.T) {
	parent, hangUp := context.WithCancel(context.Background())
	l := withLazyDeadline(parent, time.Hour)
	defer l.release()
	done := l.Done()
	hangUp()
	<-done
	if !errors.Is(l.Err(), context.Canceled) {
		t.Errorf("Err = %v, want canceled", l.Err())
	}

	parent, hangUp = context.WithCancel(context.Background())
	l = withLazyDeadline(parent, time.Hour)
	defer l.release()
	hangUp()
	if !errors.Is(l.Err(), context.Canceled) {
		t.Errorf("Err after the parent ended, unasked = %v, want canceled", l.Err())
	}
	<-l.Done()
}

func TestLazyDeadlineReleaseEndsIt(t *testing.T) {
	l := withLazyDeadline(context.Background(), time.Hour)
	done := l.Done()
	l.release()
	<-done
	if !errors.Is(l.Err(), context.Canceled) {
		t.Errorf("Err after release = %v", l.Err())
	}
}
