package couponset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// Index file layout, all integers little-endian:
//
//	magic "MKCOUPIX", version uint32, minFiles uint32, nFiles uint32,
//	per file: pathLen uint32, path, size int64, mtime int64 (ns), sample uint32,
//	zero bytes up to a multiple of 8 from the start of the file,
//	nSlots uint64, nKeys uint64, the Set's hash table (uint64 × nSlots),
//	nOther uint32, per other code: len uint32, bytes,
//	checksum of everything before it, uint32: the CRC-32C (Castagnoli) of
//	the CRC-32Cs of its consecutive 8 MiB chunks, each little-endian, so
//	that a warm start checks the chunks in parallel.
const (
	indexMagic   = "MKCOUPIX"
	indexVersion = 4
	// sampleBytes is read from each end of a file for its fingerprint. The
	// tail holds the gzip trailer: the CRC-32 and length of the whole
	// decompressed content, which the decoder verifies during the build.
	sampleBytes = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileID identifies the content of one input file cheaply.
type fileID struct {
	Path    string // absolute
	Size    int64
	ModTime int64
	Sample  uint32 // CRC-32C of the first and last sampleBytes
}

// fingerprint stats every file and samples its ends. It also rejects a file
// listed twice, which would otherwise count as two different files.
func fingerprint(paths []string) ([]fileID, error) {
	ids := make([]fileID, len(paths))
	infos := make([]os.FileInfo, len(paths))
	for i, p := range paths {
		id, info, err := identify(p)
		if err != nil {
			return nil, &FileError{Path: p, Err: err}
		}
		for j := range i {
			if os.SameFile(infos[j], info) {
				return nil, &FileError{Path: p, Err: fmt.Errorf("same file as %s", paths[j])}
			}
		}
		ids[i], infos[i] = id, info
	}
	return ids, nil
}

func identify(path string) (fileID, os.FileInfo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fileID{}, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return fileID{}, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fileID{}, nil, err
	}
	if !info.Mode().IsRegular() {
		return fileID{}, nil, errors.New("not a regular file")
	}
	id := fileID{Path: abs, Size: info.Size(), ModTime: info.ModTime().UnixNano()}
	head := min(id.Size, sampleBytes)
	buf := make([]byte, head+min(id.Size-head, sampleBytes))
	if _, err := f.ReadAt(buf[:head], 0); err != nil {
		return fileID{}, nil, err
	}
	if _, err := f.ReadAt(buf[head:], id.Size-int64(len(buf))+head); err != nil {
		return fileID{}, nil, err
	}
	id.Sample = crc32.Checksum(buf, castagnoli)
	return id, info, nil
}

// Fingerprint identifies the current content of files, as a build with
// minFiles would record it in Stats.Fingerprint, without decoding them: it
// stats every file and checksums its ends.
func Fingerprint(files []string, minFiles int) (string, error) {
	if minFiles == 0 {
		minFiles = 2
	}
	ids, err := fingerprint(files)
	if err != nil {
		return "", err
	}
	return fingerprintOf(ids, minFiles), nil
}

// fingerprintOf renders ids and minFiles as one comparable string.
func fingerprintOf(ids []fileID, minFiles int) string {
	b := fmt.Appendf(nil, "min=%d", minFiles)
	for _, id := range ids {
		b = fmt.Appendf(b, ";%q,%d,%d,%08x", id.Path, id.Size, id.ModTime, id.Sample)
	}
	return string(b)
}

// ErrChanged is wrapped by the error of a build during which a file was
// replaced or modified: the set would match neither version, so none is
// returned. Building again picks up the new version.
var ErrChanged = errors.New("changed during the build")

// checkUnchanged fails when a file changed while it was being read, since
// the set would then match neither version.
func checkUnchanged(paths []string, ids []fileID) error {
	for i, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return &FileError{Path: p, Err: err}
		}
		if info.Size() != ids[i].Size || info.ModTime().UnixNano() != ids[i].ModTime {
			return &FileError{Path: p, Err: ErrChanged}
		}
	}
	return nil
}

// CheckIndexPath reports whether an index can be written at path: its
// directory exists and takes a new file, which is what writeIndex does
// first. The error is the system's reason (no such file or directory,
// permission denied, read-only file system).
func CheckIndexPath(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".check*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// writeIndex persists the set atomically: a temporary file in the same
// directory is written, synced and renamed over the index, so a crash leaves
// either the old index or the new one, never a torn file.
func writeIndex(path string, ids []fileID, minFiles int, set *Set) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := &chunkSum{}
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	var scratch [8]byte
	var off int
	u32 := func(v uint32) {
		binary.LittleEndian.PutUint32(scratch[:4], v)
		off += 4
		bw.Write(scratch[:4])
	}
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(scratch[:], v)
		off += 8
		bw.Write(scratch[:])
	}
	off, _ = bw.WriteString(indexMagic)
	u32(indexVersion)
	u32(uint32(minFiles))
	u32(uint32(len(ids)))
	for _, id := range ids {
		u32(uint32(len(id.Path)))
		n, _ := bw.WriteString(id.Path)
		off += n
		u64(uint64(id.Size))
		u64(uint64(id.ModTime))
		u32(id.Sample)
	}
	// The hash table is stored as is and 8-byte aligned, so a warm start
	// maps the file and uses the table in place: a checksum instead of
	// reading, copying or rehashing millions of codes.
	for off%8 != 0 {
		bw.WriteByte(0)
		off++
	}
	u64(uint64(len(set.table)))
	u64(uint64(set.n))
	for _, k := range set.table {
		u64(k)
	}
	other := make([]string, 0, len(set.other))
	for o := range set.other {
		other = append(other, o)
	}
	slices.Sort(other)
	u32(uint32(len(other)))
	for _, o := range other {
		u32(uint32(len(o)))
		bw.WriteString(o)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	binary.LittleEndian.PutUint32(scratch[:4], h.Sum32())
	if _, err := tmp.Write(scratch[:4]); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("install index: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// sumChunk is the size of the chunks the index checksum is made of.
const sumChunk = 8 << 20

// checksum returns the index checksum of data, checking its chunks on
// that many goroutines.
func checksum(data []byte, workers int) uint32 {
	n := (len(data) + sumChunk - 1) / sumChunk
	sums := make([]byte, 4*n)
	workers = max(min(workers, n), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c := crc32.Checksum(data[i*sumChunk:min((i+1)*sumChunk, len(data))], castagnoli)
				binary.LittleEndian.PutUint32(sums[4*i:], c)
			}
		})
	}
	wg.Wait()
	return crc32.Checksum(sums, castagnoli)
}

// chunkSum computes checksum over what is written to it.
type chunkSum struct {
	cur  uint32
	fill int
	sums []byte
}

func (h *chunkSum) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), sumChunk-h.fill)
		h.cur = crc32.Update(h.cur, castagnoli, p[:k])
		h.fill += k
		p = p[k:]
		if h.fill == sumChunk {
			h.sums = binary.LittleEndian.AppendUint32(h.sums, h.cur)
			h.cur, h.fill = 0, 0
		}
	}
	return n, nil
}

func (h *chunkSum) Sum32() uint32 {
	sums := h.sums
	if h.fill > 0 {
		sums = binary.LittleEndian.AppendUint32(sums, h.cur)
	}
	return crc32.Checksum(sums, castagnoli)
}

// errIndex marks an index that exists but cannot be used.
var errIndex = errors.New("unusable index")

// readIndex returns the set stored at path if the file is intact and was
// built from exactly these files with the same minFiles. The whole file is
// checked against its checksum before any of it is trusted; the table is then
// used where it lies in the mapped (or read) file, with no per-key work.
func readIndex(path string, ids []fileID, minFiles, workers int) (*Set, error) {
	m, err := mapIndex(path)
	if err != nil {
		return nil, err
	}
	set, keep, err := decodeIndex(path, m.data, ids, minFiles, workers)
	if err != nil || !keep {
		m.release()
		return set, err
	}
	// The table lives in the mapping; it goes when the set does.
	runtime.AddCleanup(set, func(m indexData) { m.release() }, m)
	return set, nil
}

// decodeIndex parses and verifies the index held in data. keep reports that
// the returned set's table points into data.
func decodeIndex(path string, data []byte, ids []fileID, minFiles, workers int) (set *Set, keep bool, err error) {
	bad := func(why string) error { return fmt.Errorf("index %s: %s: %w", path, why, errIndex) }
	if len(data) < len(indexMagic)+4 || string(data[:len(indexMagic)]) != indexMagic {
		return nil, false, bad("not an index file")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if checksum(body, workers) != sum {
		return nil, false, bad("checksum mismatch")
	}
	r := &indexReader{b: body[len(indexMagic):]}
	m, got, err := readHeader(r)
	if err != nil {
		return nil, false, bad(err.Error())
	}
	if m != minFiles {
		return nil, false, bad(fmt.Sprintf("built for min files %d, want %d", m, minFiles))
	}
	if !samePaths(got, ids) {
		return nil, false, bad("built for other files (" + pathList(got) + ")")
	}
	if !slices.Equal(got, ids) {
		return nil, false, bad("built from older versions of the files")
	}
	for pad := (8 - (len(body)-len(r.b))%8) % 8; pad > 0; pad-- {
		if p := r.bytes(1); p == nil || p[0] != 0 {
			return nil, false, bad("malformed padding")
		}
	}
	slots, nk := r.u64(), r.u64()
	// The writer sizes every table with at least tableSize slots, which
	// leaves empty slots that end every probe; any other shape is not one
	// of ours.
	if r.err != nil || slots > uint64(len(r.b))/8 || nk > slots || slots < uint64(tableSize(int(nk))) {
		return nil, false, bad("malformed table")
	}
	raw := r.bytes(int(slots) * 8)
	set = &Set{n: int(nk)}
	if slots > 0 {
		if littleEndian && uintptr(unsafe.Pointer(&raw[0]))%8 == 0 {
			set.table = unsafe.Slice((*uint64)(unsafe.Pointer(&raw[0])), slots)
			keep = true
		} else {
			set.table = make([]uint64, slots)
			for i := range set.table {
				set.table[i] = binary.LittleEndian.Uint64(raw[i*8:])
			}
		}
	}
	no := r.u32()
	other := make([]string, 0, min(int(no), len(r.b)))
	for range no {
		other = append(other, string(r.bytes(int(r.u32()))))
		if r.err != nil {
			break
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, false, bad("malformed body")
	}
	if len(other) > 0 {
		set.other = make(map[string]struct{}, len(other))
		for _, o := range other {
			set.other[o] = struct{}{}
		}
	}
	return set, keep, nil
}

// readHeader reads the version, min files and file identities of an index.
func readHeader(r *indexReader) (minFiles int, ids []fileID, err error) {
	if v := r.u32(); v != indexVersion {
		return 0, nil, fmt.Errorf("version %d, want %d", v, indexVersion)
	}
	minFiles = int(r.u32())
	n := int(r.u32())
	if r.err != nil || n > maxFiles {
		return 0, nil, errors.New("malformed header")
	}
	for range n {
		id := fileID{Path: string(r.bytes(int(r.u32())))}
		id.Size, id.ModTime, id.Sample = int64(r.u64()), int64(r.u64()), r.u32()
		if r.err != nil {
			return 0, nil, errors.New("truncated")
		}
		ids = append(ids, id)
	}
	return minFiles, ids, nil
}

func samePaths(a, b []fileID) bool {
	return slices.EqualFunc(a, b, func(x, y fileID) bool { return x.Path == y.Path })
}

func pathList(ids []fileID) string {
	var p []string
	for _, id := range ids {
		p = append(p, id.Path)
	}
	return strings.Join(p, ", ")
}

// IndexOwner returns the files (absolute paths) and min files the index at
// path was built for, from its header alone: no checksum is verified, so
// the answer is only for telling an operator whose index it is. It fails
// when there is no index or it is not one of ours.
func IndexOwner(path string) (files []string, minFiles int, err error) {
	m, err := mapIndex(path)
	if err != nil {
		return nil, 0, err
	}
	defer m.release()
	if len(m.data) < len(indexMagic) || string(m.data[:len(indexMagic)]) != indexMagic {
		return nil, 0, fmt.Errorf("index %s: not an index file: %w", path, errIndex)
	}
	minFiles, ids, err := readHeader(&indexReader{b: m.data[len(indexMagic):]})
	if err != nil {
		return nil, 0, fmt.Errorf("index %s: %v: %w", path, err, errIndex)
	}
	for _, id := range ids {
		files = append(files, id.Path)
	}
	return files, minFiles, nil
}

// ForeignIndex reports whether the index at path belongs to another set of
// files (other paths, or another minimum of files), naming its owner: such an
// index is never replaced without being told (coupons build --force). A
// missing or unreadable index belongs to nobody.
func ForeignIndex(path string, files []string, minFiles int) (owner []string, ownerMin int, foreign bool) {
	owner, ownerMin, err := IndexOwner(path)
	if err != nil {
		return nil, 0, false
	}
	if minFiles == 0 {
		minFiles = 2
	}
	return owner, ownerMin, !SameFiles(files, owner) || ownerMin != minFiles
}

// SameFiles reports whether the files as given name the same paths as
// owned, the absolute paths IndexOwner returns.
func SameFiles(files, owned []string) bool {
	if len(files) != len(owned) {
		return false
	}
	for i, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil || abs != owned[i] {
			return false
		}
	}
	return true
}

// littleEndian reports whether the index's byte order is the machine's, so
// that its table can be used without conversion.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

type indexReader struct {
	b   []byte
	err error
}

func (r *indexReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *indexReader) u32() uint32 {
	p := r.bytes(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *indexReader) u64() uint64 {
	p := r.bytes(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// readIndexFile reads the index into an 8-byte aligned buffer, so that its
// table can be used in place.
func readIndexFile(f *os.File, size int64) (indexData, error) {
	if size < 0 || size > int64(^uint(0)>>1)-7 {
		return indexData{}, fmt.Errorf("index %s: size %d: %w", f.Name(), size, errIndex)
	}
	words := make([]uint64, (size+7)/8)
	var data []byte
	if len(words) > 0 {
		data = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	}
	if _, err := io.ReadFull(f, data); err != nil {
		return indexData{}, fmt.Errorf("read index: %w", err)
	}
	return indexData{data: data}, nil
}
