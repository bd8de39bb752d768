// Package vecparse is the coupon parser's vector kernel: it packs runs of
// lines that are 8 to 10 base-36 characters into base-36 integers, 16 bytes
// at a time. It lives apart from package couponset because a package that
// uses cgo (couponset does, for ISA-L) cannot hold Go assembly.
package vecparse

import "unsafe"

// Why Parse returned.
const (
	StopEnd  = 0 // pos passed last
	StopSlow = 1 // the line at pos is not a plain code: the caller takes it
	StopFull = 2 // a bucket is past its limit: the caller grows it
)

// Lens is how many code lengths there are (8, 9 and 10 characters).
const Lens = 3

// Cursors are the write positions of the buckets, one per length; the
// assembly depends on this layout. Parse stores each value as 8 bytes at
// Ptr[l]+N[l] and advances N[l] by Width[l], so each buffer needs 8 bytes
// of room past Lim[l].
type Cursors struct {
	Ptr   [Lens]unsafe.Pointer
	N     [Lens]int
	Lim   [Lens]int
	Width [Lens]int
}
