//go:build !linux

package couponset

import "os"

// indexData is the content of an index file.
type indexData struct {
	data []byte
}

// mapIndex reads the index file into memory.
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
	return readIndexFile(f, info.Size())
}

func (indexData) release() {}
