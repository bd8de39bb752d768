package lifecycle

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

func TestBackgroundRunsFromStartUntilStop(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan struct{})
	app := fxtest.New(t, fx.Invoke(func(lc fx.Lifecycle) {
		Background(lc, func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			close(stopped)
		})
	}))
	select {
	case <-started:
		t.Fatal("the work ran before the application started")
	case <-time.After(20 * time.Millisecond):
	}
	app.RequireStart()
	<-started
	app.RequireStop()
	select {
	case <-stopped:
	default:
		t.Fatal("stop returned before the work did")
	}
}

func TestStopWaitsNoLongerThanItsDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	app := fx.New(fx.NopLogger, fx.Invoke(func(lc fx.Lifecycle) {
		Background(lc, func(context.Context) { <-release }) // ignores its context
	}))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	app.Stop(ctx) // the deadline passes: fx reports it, and stop returns
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("stop took %v with a 50ms deadline", d)
	}
}
