//go:build !purego

package vecparse

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Available is set when the CPU runs Parse: AVX with SSSE3 and SSE4.1, on
// every x86-64 server since 2011.
var Available = cpu.X86.HasAVX && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41

// Parse packs the lines at base[pos:] while pos <= last; base[pos:pos+16]
// must be readable for every such pos. It returns where it stopped, how
// many lines it packed and why it stopped. It is implemented in
// vecparse_amd64.s.
//
//go:noescape
func Parse(base unsafe.Pointer, pos, last int, cur *Cursors) (newPos, lines, stop int)
