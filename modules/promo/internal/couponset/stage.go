package couponset

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// A valid code is in at least m of the k files, so it is in at least one of
// any k-m+1 of them. The build uses that bound to keep less:
//
//   - The k-m+1 largest files lead: they are decoded first, all at once,
//     and keep their codes (in memory while a bucket is small, else in a
//     spill file).
//   - The m-1 others trail. Once every leading file is done, the union of
//     the leading files' codes of a length is every candidate of that
//     length; when it is small (each leading bucket still in memory), a
//     trailing file's codes of that length are checked against it as they
//     are parsed, and none is kept. What a trailing file parsed before
//     that moment was kept, spilled by a hash of the code into spillParts
//     files, and is checked in the background, reading back only the
//     files that one of the union's codes hashes to.
//   - A trailing file starts once the leading files are tailStart of the
//     way through, or (by default) when they are done; only the part it
//     reads before the leading files are done is kept.
//   - A leading file's bucket that outgrows memory while another leading
//     file, well under way, has no code of that length at all is dropped
//     rather than spilled: files whose lengths do not meet need none of
//     it. Should a length with a dropped bucket turn out to be in m files
//     after all, that file is read again for those lengths only; the
//     result is exact either way.
//
// With m = 1 every code of every file is valid and nothing trails.

// tailStart is how far through their compressed input the leading files
// are when the trailing files start; tests change it. 1: once they are
// done, so that a trailing file keeps nothing. Starting it earlier keeps
// the processors busier while the leading files end but costs more than it
// gains: at the real size, nine alternating rounds of `coupons build`
// (ISA-L) took 3.90-4.37 s and 6.41-7.33 CPU-s from the end, against
// 3.91-4.29 s and 6.68-7.66 CPU-s from 85% (52 MB spilled) and more
// still from two fifths (244 MB spilled); with igzip, 4.51-5.10 s against
// 4.71-5.18 s.
var tailStart = 1.0

// dropEvidence is how many lines another leading file must have parsed,
// none of a length, before a bucket of that length may be dropped.
var dropEvidence int64 = 1 << 16

// beforeUnion, when set, runs before the last leading file to finish works
// out the union; tests hold it back with it.
var beforeUnion func()

// probeBuf is the buffer of a probing bucket: how many bytes of codes are
// checked at once.
const probeBuf = 64 << 10

// prefixChunk is how many values of a trailing file's kept codes are read
// back and checked at once: about 1 MB, since a direct read of that size
// moves a quarter more per second than one of 384 KB (64 Ki values), and
// the check runs after the leading files, beside the trailing file's end.
const prefixChunk = 1 << 17

// stager coordinates the leading and trailing files of one build.
type stager struct {
	m int
	// budget bounds the union's memory as it bounds a join round's.
	budget  int64
	lead    []bool
	leads   []int
	tails   []int
	parsers []*fileParser
	// lines and seen are each parser's progress, published after every
	// step for the other goroutines.
	lines []atomic.Int64
	seen  [][numLens]atomic.Int64
	// read is the leading files' compressed bytes read; once it passes
	// startAt, tailGo is closed.
	read, startAt atomic.Int64
	tailGo        chan struct{}
	tailOnce      sync.Once
	leadsLeft     atomic.Int64
	union         atomic.Pointer[leadUnion]
	// prefix checks what trailing files kept before the union was known.
	prefix     sync.WaitGroup
	prefixMu   sync.Mutex
	prefixErr  error
	prefixSeen map[*bucket]*probeSink
	// all is every bucket the build made, to release and count them.
	all []*bucket
	// readAgain counts the files decoded a second time.
	readAgain int
	// checkClock times the checks of what trailing files kept.
	checkClock *phaseClock
	// checked counts the spilled bytes those checks read back.
	checked atomic.Int64
}

// register records a bucket the build made.
func (s *stager) register(b *bucket) {
	s.prefixMu.Lock()
	s.all = append(s.all, b)
	s.prefixMu.Unlock()
}

// buckets returns every bucket the build made.
func (s *stager) buckets() []*bucket {
	s.prefixMu.Lock()
	defer s.prefixMu.Unlock()
	return slices.Clone(s.all)
}

// newStager splits the files into leading and trailing ones by compressed
// size (the largest lead, the first file first among equals).
func newStager(sizes []int64, m int, parsers []*fileParser, decoders int, budget int64) *stager {
	k := len(sizes)
	s := &stager{m: m, budget: budget, lead: make([]bool, k), parsers: parsers,
		lines: make([]atomic.Int64, k), seen: make([][numLens]atomic.Int64, k),
		tailGo: make(chan struct{}), prefixSeen: map[*bucket]*probeSink{}}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	nLeads := k
	if m >= 2 {
		nLeads = k - m + 1
	}
	var leadBytes int64
	for r, i := range order {
		if r < nLeads {
			s.lead[i] = true
			s.leads = append(s.leads, i)
			leadBytes += sizes[i]
		} else {
			s.tails = append(s.tails, i)
		}
	}
	slices.Sort(s.leads)
	slices.Sort(s.tails)
	s.leadsLeft.Store(int64(len(s.leads)))
	s.startAt.Store(int64(float64(leadBytes) * tailStart))
	if decoders <= len(s.tails) || tailStart >= 1 {
		// The trailing files alone keep every token busy: starting them
		// early would cost spill and gain nothing. They start once the
		// leading files are done.
		s.startAt.Store(leadBytes + 1)
	}
	for _, i := range s.leads {
		for l, b := range parsers[i].buckets {
			if m >= 2 && len(s.leads) >= 2 {
				b.mayDrop = s.mayDrop(i, l)
			}
		}
	}
	// What a trailing file keeps is checked against the leading files'
	// codes, which are few where the check runs: spilled by hash, only the
	// files holding one of them are read back.
	for _, i := range s.tails {
		for _, b := range parsers[i].buckets {
			for _, p := range b.splitSpill(spillParts) {
				s.all = append(s.all, p)
			}
		}
	}
	return s
}

// mayDrop says whether leading file i may drop its codes of length index l:
// every other leading file parsed dropEvidence lines and none of length l.
func (s *stager) mayDrop(i, l int) func() bool {
	return func() bool {
		for _, g := range s.leads {
			if g != i && (s.lines[g].Load() < dropEvidence || s.seen[g][l].Load() > 0) {
				return false
			}
		}
		return true
	}
}

// publish makes file i's progress visible to the others; compressed is how
// many compressed bytes it read since the last call.
func (s *stager) publish(i int, compressed int64) {
	fp := s.parsers[i]
	s.lines[i].Store(fp.lines)
	for l, b := range fp.buckets {
		s.seen[i][l].Store(b.seen())
	}
	if s.lead[i] && s.read.Add(compressed) >= s.startAt.Load() {
		s.tailOnce.Do(func() { close(s.tailGo) })
	}
}

// leadDone is called when leading file i was parsed without error; the
// last one computes the union the trailing files are checked against.
func (s *stager) leadDone() {
	if s.leadsLeft.Add(-1) > 0 {
		return
	}
	if beforeUnion != nil {
		beforeUnion()
	}
	s.union.Store(newLeadUnion(s))
	s.tailOnce.Do(func() { close(s.tailGo) })
}

// leadUnion is, per length, the sorted codes of the leading files with the
// number of leading files holding each, when they were all kept in memory.
type leadUnion struct {
	ok    [numLens]bool
	vals  [numLens][]uint64
	cnt   [numLens][]uint8
	probe [numLens]*probeTable
	// parts says which spill parts (see spillParts) hold a code of vals.
	parts [numLens][spillParts]bool
}

func newLeadUnion(s *stager) *leadUnion {
	u := &leadUnion{}
	for l := range numLens {
		u.ok[l] = true
		var codes int64
		for _, i := range s.leads {
			b := s.parsers[i].buckets[l]
			if b.mode != keepCodes || b.f != nil {
				u.ok[l] = false
			}
			codes += int64(b.n / b.width)
		}
		if codes*joinBytesPerCode > s.budget {
			u.ok[l] = false // the join's rounds take it
		}
		if !u.ok[l] {
			continue
		}
		var vals []uint64
		var cnt []uint8
		for _, i := range s.leads {
			b := s.parsers[i].buckets[l]
			run := make([]uint64, 0, b.n/b.width)
			mask := uint64(1)<<(8*b.width) - 1
			for off := 0; off < b.n; off += b.width {
				run = append(run, binary.LittleEndian.Uint64(b.buf[off:])&mask)
			}
			radixSort(run, make([]uint64, len(run)), packedBits[l])
			run = dedupe(run)
			if vals == nil {
				vals, cnt = run, make([]uint8, len(run))
				for k := range cnt {
					cnt[k] = 1
				}
				continue
			}
			vals, cnt = mergeCount(vals, cnt, run)
		}
		u.vals[l], u.cnt[l] = vals, cnt
		for _, v := range vals {
			u.parts[l][partition(v, spillParts)] = true
		}
		if len(vals) <= hashJoinLimit {
			u.probe[l] = newProbeTable(vals)
		}
	}
	return u
}

// switchTail turns trailing file i's buckets of the lengths the union
// covers into probing ones. What they kept so far is checked in the
// background.
func (s *stager) switchTail(u *leadUnion, fp *fileParser) {
	for l, old := range fp.buckets {
		if !u.ok[l] || old.mode != keepCodes {
			continue
		}
		nb := newBucket(old.width, old.path+"-probed")
		nb.setBuf(make([]byte, min(probeBuf, bucketMaxBuf)+8))
		s.register(nb)
		nb.mode, nb.sink = probeCodes, u.sink(l)
		fp.buckets[l] = nb
		prefix := u.sink(l)
		s.prefixMu.Lock()
		s.prefixSeen[nb] = prefix
		s.prefixMu.Unlock()
		s.prefix.Go(func() {
			t := s.checkClock.begin()
			defer t.end()
			defer old.release()
			err := old.finish()
			raw := alignedBytes(prefixChunk*8 + 2*directAlign + 8)
			mark := func(src []byte, cnt int64) error {
				prefix.mark(src, cnt, old.width)
				return nil
			}
			switch {
			case err != nil:
			case old.scattered:
				// A part none of the union's codes hashes to holds
				// nothing to mark.
				for i, p := range old.parts {
					if err == nil && u.parts[l][i] {
						err = p.readRaw(0, p.count, prefixChunk, raw, mark)
						s.checked.Add(p.written)
					}
				}
			default:
				err = old.readRaw(0, old.count, prefixChunk, raw, mark)
				s.checked.Add(old.written)
			}
			if err != nil {
				s.prefixMu.Lock()
				s.prefixErr = cmp.Or(s.prefixErr, err)
				s.prefixMu.Unlock()
			}
		})
	}
}

// probeSink marks which of a union's codes one bucket holds.
type probeSink struct {
	u            *leadUnion
	l            int
	seen         []uint64
	dst, scratch []uint64
}

func (u *leadUnion) sink(l int) *probeSink {
	return &probeSink{u: u, l: l, seen: make([]uint64, (len(u.vals[l])+63)/64)}
}

// mark sets the bit of every union code among the cnt values of width
// bytes in src (followed by 8 readable bytes).
func (p *probeSink) mark(src []byte, cnt int64, width int) {
	vals := p.u.vals[p.l]
	if len(vals) == 0 || cnt == 0 {
		return
	}
	if t := p.u.probe[p.l]; t != nil {
		t.mark(src, cnt, width, p.seen)
		return
	}
	if int64(cap(p.dst)) < cnt {
		p.dst, p.scratch = make([]uint64, cnt), make([]uint64, cnt)
	}
	c := p.dst[:cnt]
	mask := uint64(1)<<(8*width) - 1
	for i := range c {
		c[i] = binary.LittleEndian.Uint64(src[i*width:]) & mask
	}
	radixSort(c, p.scratch[:cnt], packedBits[p.l])
	gallopMark(c, vals, p.seen)
}

// result returns the tagged keys of length index l that reach m files: the
// leading files' count plus one for each trailing file that marked it.
func (u *leadUnion) result(l, m int, marks [][]uint64) []uint64 {
	var out []uint64
	for i, v := range u.vals[l] {
		c := int(u.cnt[l][i])
		for _, seen := range marks {
			c += int(seen[i>>6] >> (i & 63) & 1)
		}
		if c >= m {
			out = append(out, tagKey(v, MinLen+l))
		}
	}
	return out
}

// settle finishes what the staging left once every file was parsed: it
// checks what the trailing files kept before the union was known, counts
// the lengths the union covers, and reads again, for the lengths that need
// them, the files whose codes were dropped. It returns the buckets the join
// still has to count (empty ones for the lengths settled here) and the keys
// already found valid.
func settle(ctx context.Context, s *stager, o Options, decoder string, ids []fileID, tmp string, writer *spillWriter, cpu chan struct{}, tl *timeline) ([][numLens]*bucket, []uint64, error) {
	k := len(s.parsers)
	u := s.union.Load()
	if u != nil {
		for _, i := range s.tails {
			s.switchTail(u, s.parsers[i]) // a file that ended before the union
		}
	}
	s.prefix.Wait()
	if s.prefixErr != nil {
		return nil, nil, s.prefixErr
	}
	var keys []uint64
	out := make([][numLens]*bucket, k)
	for i, fp := range s.parsers {
		out[i] = fp.buckets
	}
	reread := make([][]int, k) // per file, the length indexes to read again
	for l := range numLens {
		empty := newBucket(packWidth[l], "")
		if u != nil && u.ok[l] && len(s.tails) > 0 {
			var marks [][]uint64
			for _, i := range s.tails {
				b := s.parsers[i].buckets[l]
				seen := slices.Clone(b.sink.seen)
				for w, x := range s.prefixSeen[b].seen {
					seen[w] |= x
				}
				marks = append(marks, seen)
			}
			keys = append(keys, u.result(l, s.m, marks)...)
			for i := range k {
				out[i][l] = empty
			}
			continue
		}
		present := 0
		for _, fp := range s.parsers {
			if fp.buckets[l].seen() > 0 {
				present++
			}
		}
		for i, fp := range s.parsers {
			switch {
			case present < s.m:
				out[i][l] = empty // no code of this length is in m files
			case fp.buckets[l].mode == dropCodes:
				reread[i] = append(reread[i], l)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, k)
	for i, lens := range reread {
		if len(lens) == 0 {
			continue
		}
		s.readAgain++
		path := o.Files[i]
		fp := &fileParser{}
		for l := range numLens {
			fp.buckets[l] = newBucket(packWidth[l], filepath.Join(tmp, fmt.Sprintf("f%03d-l%02d-again", i, MinLen+l)))
			fp.buckets[l].writer = writer
			if !slices.Contains(lens, l) {
				fp.buckets[l].mode = dropCodes
			}
			s.register(fp.buckets[l])
		}
		clocks := fileClocks{inflate: tl.phase("inflate again " + filepath.Base(path)), parse: tl.phase("parse again " + filepath.Base(path))}
		wg.Go(func() {
			if _, err := ingest(ctx, decoder, path, ids[i].Size, fp, cpu, nil, clocks, nil, nil); err != nil {
				errs[i] = &FileError{Path: path, Err: err}
				return
			}
			for _, l := range lens {
				s.parsers[i].buckets[l].release()
				out[i][l] = fp.buckets[l]
			}
		})
	}
	wg.Wait()
	if err := firstError(ctx, errs); err != nil {
		return nil, nil, err
	}
	if s.readAgain > 0 {
		if err := checkUnchanged(o.Files, ids); err != nil {
			return nil, nil, err
		}
	}
	return out, keys, nil
}
