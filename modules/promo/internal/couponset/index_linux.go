package couponset

import (
	"os"

	"golang.org/x/sys/unix"
)

// indexData is the content of an index file and how to give it back.
type indexData struct {
	data   []byte
	mapped bool
}

// mapIndex maps the index file read-only. MAP_POPULATE wires the pages from
// the page cache in one call instead of one fault per page, which for a
// table of a hundred megabytes is most of a warm start. The mapping is
// private and the index is only ever replaced by renaming a new file over
// it, so a later build cannot change what a loaded set sees.
func mapIndex(path string) (indexData, error) {
	f, err := os.Open(path)
	if err != nil {
		return indexData{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return indexData{}, err
	}
	size := info.Size()
	if size == 0 || size != int64(int(size)) {
		return readIndexFile(f, size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return readIndexFile(f, size)
	}
	return indexData{data: data, mapped: true}, nil
}

func (m indexData) release() {
	if m.mapped {
		unix.Munmap(m.data)
	}
}
