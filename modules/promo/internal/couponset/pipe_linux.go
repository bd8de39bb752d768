package couponset

import (
	"io"
	"syscall"
)

// enlargePipe asks for a 1 MiB pipe buffer so igzip and the parser trade
// large blocks instead of the default 64 KiB, which cuts context switches.
// Failure only costs speed.
func enlargePipe(r io.Reader) {
	const fSetPipeSz = 1031
	sc, ok := r.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, 1<<20)
	})
}
