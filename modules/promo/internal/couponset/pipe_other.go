//go:build !linux

package couponset

import "io"

// enlargePipe is a no-op where pipe buffers cannot be resized.
func enlargePipe(io.Reader) {}
