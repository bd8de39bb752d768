// Package lifecycle runs a module's background work for as long as the
// application runs.
package lifecycle

import (
	"context"

	"go.uber.org/fx"
)

// Background runs run in a goroutine of its own from the application's
// start. At stop its context is cancelled and the stop waits for run to
// return, or for the stop's own deadline, whichever comes first.
func Background(lc fx.Lifecycle, run func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				run(ctx)
			}()
			return nil
		},
		OnStop: func(stopCtx context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stopCtx.Done():
			}
			return nil
		},
	})
}
