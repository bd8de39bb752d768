//go:build !linux

package couponset

import "os"

// writeBehind is a no-op where the page cache cannot be steered.
func writeBehind(f *os.File, prevOff, prevLen, off, n int64) {}

// dropRead is a no-op where the page cache cannot be steered.
func dropRead(f *os.File, off, n int64) {}

const directAlign = 4096

// openDirect returns nil: spills go through the page cache.
func openDirect(path string) *os.File { return nil }
