package couponset

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBehind starts writeback of the block just written at off and drops
// the block before it from the page cache once it is on disk. Spill files
// are written once and read at most once, so keeping gigabytes of them
// cached only forces the kernel to take fresh pages, which on a virtual
// machine costs far more than the write itself; recycling a few pages keeps
// the cost flat. Errors only cost speed.
func writeBehind(f *os.File, prevOff, prevLen, off, n int64) {
	fd := int(f.Fd())
	unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	if prevLen > 0 {
		unix.SyncFileRange(fd, prevOff, prevLen, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
		unix.Fadvise(fd, prevOff, prevLen, unix.FADV_DONTNEED)
	}
}

// dropRead drops a range that was read and will not be read again.
func dropRead(f *os.File, off, n int64) {
	unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED)
}

// directAlign is the alignment O_DIRECT asks of offsets, lengths and
// buffers.
const directAlign = 4096

// openDirect opens a spill file a second time for writes and reads that
// bypass the page cache: spills are written once and read at most once, so
// caching them only costs page allocation, copying and writeback. nil means
// the file system does not support it.
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
