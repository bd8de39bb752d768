//go:build unix

package couponset

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll is how often a build waiting for another one's lock tries again.
var lockPoll = 100 * time.Millisecond

// lockIndex takes the build lock of the index at path: an advisory lock on
// path+".lock", which every process that builds into path (instances sharing
// the index, `coupons build`) takes first. Whoever waited for it then finds
// the index the holder wrote. A lock that cannot be created (a read-only
// directory) is no lock at all; the build goes on without it.
func lockIndex(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}, nil
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return func() {}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
