//go:build !amd64 || purego

package vecparse

import "unsafe"

// Available is false: this platform has only the portable parser.
var Available = false

// Parse is never called when Available is false.
func Parse(unsafe.Pointer, int, int, *Cursors) (int, int, int) {
	panic("vecparse: no vector kernel on this platform")
}
