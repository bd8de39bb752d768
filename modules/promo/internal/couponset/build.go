package couponset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMemoryBudget is the memory the join may use for the loaded codes of
// one length before it splits the work into rounds.
const DefaultMemoryBudget = 256 << 20

// maxFiles is the most files a build accepts; per-code file counts are bytes.
const maxFiles = 255

// progressEvery is how often a build goroutine reports progress; tests
// shorten it.
var progressEvery = 2 * time.Second

// Options configures Load and Build.
type Options struct {
	// Files are the gzip-compressed coupon files.
	Files []string
	// MinFiles is how many different files must hold a code; 0 means 2.
	MinFiles int
	// IndexPath is where the built set is persisted; "" disables the index.
	IndexPath string
	// TempDir receives the spill files; "" means os.TempDir().
	TempDir string
	// OnProgress, if set, is called about every two seconds per file and
	// once when a file is done, from the build goroutines. It must be cheap
	// and safe for concurrent use.
	OnProgress func(Progress)
	// Decoder selects the gzip decoder: DecoderAuto (the default when
	// empty), DecoderISAL, DecoderIgzip, DecoderKlauspost or DecoderStd.
	Decoder string
	// MemoryBudget bounds the join's loaded codes per round in bytes;
	// 0 means DefaultMemoryBudget. A build changes no process-wide runtime
	// setting: a server builds a new set while it serves with the old one.
	MemoryBudget int64
	// MaxSetBytes, when positive, fails a build whose finished set would
	// take more memory than this, with an error wrapping ErrOverBudget.
	MaxSetBytes int64
	// Workers bounds the CPU a build uses: at most this many goroutines
	// decode or parse at once (the files take turns in steps of a read),
	// and the join and the index check run this many goroutines. 0 means
	// every processor: the files decode at once (the trailing ones once
	// the leading ones are done, see stage.go), and the join and the index
	// check run GOMAXPROCS goroutines.
	Workers int

	// decoders is how many files decode and parse at once: Workers when
	// set, else every file.
	decoders int
	// tokens is how many reads and parses may run at once: Workers when
	// set, else two per file (a file decoding alone reads ahead of its
	// parsing, see ingest), so that they never wait for one. An in-process
	// decoder (ISA-L) always takes Workers, with a spare P (see spareProc).
	tokens int
}

// FileError is a failure that one coupon file caused: it is missing,
// unreadable, truncated, corrupt, or changed while it was read.
type FileError struct {
	// Path is the file as given in Options.Files.
	Path string
	Err  error
}

// Error names the file and what is wrong with it.
func (e *FileError) Error() string { return "coupon file " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// ErrOverBudget is wrapped by the error of a build whose set exceeds
// Options.MaxSetBytes.
var ErrOverBudget = errors.New("over the memory budget")

// Progress reports how far the build of one file is.
type Progress struct {
	// File is the path as given in Options.Files.
	File string
	// CompressedRead is how many compressed bytes the decoder consumed.
	CompressedRead int64
	// CompressedTotal is the size of the compressed file.
	CompressedTotal int64
	// Bytes is how many decompressed bytes were parsed.
	Bytes int64
	// Lines is how many lines were parsed.
	Lines int64
	// Done is set on the last report for the file.
	Done bool
}

// Stats describes how a Set was obtained.
type Stats struct {
	// FromIndex is true when the set was read from the index file.
	FromIndex bool
	// IndexRebuilt is true when an index file existed but was stale or
	// corrupt, and the set was rebuilt (and the index replaced).
	IndexRebuilt bool
	// IndexReason says why an existing index was not used.
	IndexReason string
	// WaitedForBuild is true when another process was building the same
	// index and the set was read from what it wrote.
	WaitedForBuild bool
	// IndexWritten is true when the build persisted a new index.
	IndexWritten bool
	// IndexError says why the index was not written: writing failed, or
	// (Load) the index belongs to other files and was left alone. Load
	// still returns the built set in that case; Build returns the error.
	IndexError string
	// Fingerprint identifies the files (and MinFiles) the set was made
	// from; compare it with Fingerprint's to know whether the files
	// changed since.
	Fingerprint string
	// Files is the number of input files.
	Files int
	// Lines is the number of lines read (0 when loaded from the index).
	Lines int64
	// Codes is the number of valid codes.
	Codes int
	// CompressedBytes is the total size of the input files.
	CompressedBytes int64
	// DecompressedBytes is the total decompressed size that was parsed.
	DecompressedBytes int64
	// SpilledBytes is how much was written to temporary spill files.
	SpilledBytes int64
	// CheckedBytes is how much of what the trailing files spilled was read
	// back to be checked against the leading files' codes: only the spill
	// files holding a hash of one of them.
	CheckedBytes int64
	// StreamedCodes is how many codes of the trailing files were checked
	// against the leading files' codes as they were parsed, and not kept.
	StreamedCodes int64
	// ReadAgain is how many files were decoded a second time because a
	// length whose codes were dropped turned out to be needed.
	ReadAgain int
	// JoinRounds is the largest number of rounds the join needed for one
	// length (1 unless the memory budget was exceeded; 0 when the trailing
	// files' checks settled every length, and nothing was left to join).
	JoinRounds int
	// Decoder is the gzip decoder used ("" when loaded from the index).
	Decoder string
	// Duration is the wall time of the whole call.
	Duration time.Duration
	// DecodeDuration is the wall time spent decompressing and parsing.
	DecodeDuration time.Duration
	// JoinDuration is the wall time of the join after the last file.
	JoinDuration time.Duration
	// CPU is the processor time this process and its decoder children used
	// during the build (with a server, its requests count too).
	CPU time.Duration
	// Phases is the build's timeline, in the order the phases were set up.
	Phases []Phase
}

// Load returns the set from the index when the index matches the files and is
// intact; otherwise it builds the set, writing a new index when IndexPath is
// set. An unusable index is never trusted: it is rebuilt. Failing to write
// the new index does not fail Load (see Stats.IndexError).
func Load(ctx context.Context, o Options) (*Set, Stats, error) {
	start := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return nil, Stats{}, err
	}
	ids, err := fingerprint(o.Files)
	if err != nil {
		return nil, Stats{}, err
	}
	var rebuilt bool
	var reason, kept string
	if o.IndexPath != "" {
		set, err := readIndex(o.IndexPath, ids, o.MinFiles, o.Workers)
		if err == nil {
			return set, indexStats(set, ids, o.MinFiles, start), nil
		}
		// Another process may be building this very index (an instance
		// sharing it, or `coupons build`): wait for it, then look again.
		unlock, lerr := lockIndex(ctx, o.IndexPath)
		if lerr != nil {
			return nil, Stats{}, lerr
		}
		defer unlock()
		if set, err2 := readIndex(o.IndexPath, ids, o.MinFiles, o.Workers); err2 == nil {
			st := indexStats(set, ids, o.MinFiles, start)
			st.WaitedForBuild = true
			return set, st, nil
		} else if !errors.Is(err2, fs.ErrNotExist) {
			rebuilt, reason = true, err2.Error()
		}
		if owner, m, theirs := ForeignIndex(o.IndexPath, o.Files, o.MinFiles); theirs {
			// Another file set's index (another instance's, or one built
			// with coupons build --index for other files): build in memory
			// and leave it alone, as coupons build does without --force.
			kept = fmt.Sprintf("index %s belongs to other files (%s, min files %d); not replaced: give these files their own promo.index_path, or replace it with `minikart coupons build --force`",
				o.IndexPath, strings.Join(owner, ", "), m)
			o.IndexPath, rebuilt, reason = "", false, ""
		}
	}
	set, st, err := build(ctx, o, ids, start)
	st.IndexRebuilt, st.IndexReason = rebuilt, reason
	if kept != "" && err == nil {
		st.IndexError = kept
	}
	st.Duration = time.Since(start)
	if err != nil && st.IndexError != "" {
		// The set is good; only persisting it failed. A server should start
		// anyway (slower next time), so this is reported, not returned.
		return set, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	return set, st, nil
}

// OpenIndex returns the set from the index without ever building: it fails
// when the index is missing, corrupt or does not match the files.
func OpenIndex(o Options) (*Set, Stats, error) {
	start := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return nil, Stats{}, err
	}
	if o.IndexPath == "" {
		return nil, Stats{}, errors.New("no index path given")
	}
	ids, err := fingerprint(o.Files)
	if err != nil {
		return nil, Stats{}, err
	}
	set, err := readIndex(o.IndexPath, ids, o.MinFiles, o.Workers)
	if err != nil {
		return nil, Stats{}, err
	}
	return set, indexStats(set, ids, o.MinFiles, start), nil
}

func indexStats(set *Set, ids []fileID, minFiles int, start time.Time) Stats {
	st := Stats{FromIndex: true, Files: len(ids), Codes: set.Len(), Fingerprint: fingerprintOf(ids, minFiles)}
	for _, id := range ids {
		st.CompressedBytes += id.Size
	}
	st.Duration = time.Since(start)
	return st
}

// Build always builds the set from the files, and writes the index when
// IndexPath is set.
func Build(ctx context.Context, o Options) (*Set, Stats, error) {
	start := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return nil, Stats{}, err
	}
	ids, err := fingerprint(o.Files)
	if err != nil {
		return nil, Stats{}, err
	}
	if o.IndexPath != "" {
		unlock, err := lockIndex(ctx, o.IndexPath)
		if err != nil {
			return nil, Stats{}, err
		}
		defer unlock()
	}
	set, st, err := build(ctx, o, ids, start)
	st.Duration = time.Since(start)
	if err != nil {
		return nil, st, err
	}
	return set, st, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.MinFiles == 0 {
		o.MinFiles = 2
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	// Unbounded, every file decodes at once and the operating system shares
	// the processors between them: a file blocked in a read or a spill
	// write leaves its core to the others. A bound makes the files take
	// turns on that many tokens.
	o.decoders, o.tokens = len(o.Files), 2*len(o.Files)
	if o.Workers > 0 {
		o.decoders, o.tokens = min(o.Workers, len(o.Files)), o.Workers
	} else {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case len(o.Files) == 0:
		return o, errors.New("no coupon files given")
	case len(o.Files) > maxFiles:
		return o, fmt.Errorf("%d coupon files given, at most %d supported", len(o.Files), maxFiles)
	case o.MinFiles < 1:
		return o, fmt.Errorf("min files %d: must be at least 1", o.MinFiles)
	case o.MinFiles > len(o.Files):
		return o, fmt.Errorf("min files %d exceeds the %d coupon files given", o.MinFiles, len(o.Files))
	}
	return o, nil
}

// build decodes every file in parallel, joins the buckets and optionally
// persists the index.
func build(ctx context.Context, o Options, ids []fileID, start time.Time) (set *Set, st Stats, err error) {
	st = Stats{Files: len(ids), Fingerprint: fingerprintOf(ids, o.MinFiles)}
	tl := newTimeline(start)
	cpu0 := processCPU()
	defer func() {
		st.CPU = processCPU() - cpu0
		st.Phases = tl.result()
	}()
	for _, id := range ids {
		st.CompressedBytes += id.Size
	}
	decoder, err := resolveDecoder(o.Decoder)
	if err != nil {
		return nil, st, err
	}
	st.Decoder = decoder
	tmp, err := os.MkdirTemp(o.TempDir, "couponset-*")
	if err != nil {
		return nil, st, fmt.Errorf("create spill directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Two writers keep the disk busy with a queue of four buffers; the
	// buckets wait for it only when the disk is slower than the parsers.
	writer := newSpillWriter(2, 4)
	writer.clock = tl.phase("spill writes")
	defer writer.close()
	parsers := make([]*fileParser, len(o.Files))
	sizes := make([]int64, len(o.Files))
	for i := range o.Files {
		fp := &fileParser{}
		parsers[i], sizes[i] = fp, ids[i].Size
		for l := range numLens {
			fp.buckets[l] = newBucket(packWidth[l], filepath.Join(tmp, fmt.Sprintf("f%03d-l%02d", i, MinLen+l)))
			fp.buckets[l].writer = writer
		}
	}
	stg := newStager(sizes, o.MinFiles, parsers, o.decoders, o.MemoryBudget)
	stg.checkClock = tl.phase("check kept codes")
	for _, fp := range parsers {
		for _, b := range fp.buckets {
			stg.register(b)
		}
	}
	// Removing a spill file can take as long as writing it (a file system
	// mounted with discard trims every block), so the join hands back each
	// bucket it is done with to be released in the background while it
	// goes on; the build waits for them all before it returns.
	var releasing sync.WaitGroup
	defer func() {
		releasing.Wait()
		stg.prefix.Wait()
		for _, b := range stg.buckets() {
			b.release()
		}
	}()

	decodeStart := time.Now()
	errs := make([]error, len(o.Files))
	decompressed := make([]int64, len(o.Files))
	var wg sync.WaitGroup
	// The leading files are decoded at once, the trailing ones join them
	// (see stager), and each read and each parse holds one of the tokens.
	// The files share the processors evenly: with one worker, the leading
	// files take turns, and the build still uses no more than that many
	// processors. Reads through igzip's pipes wait for a child process
	// while they hold a token, so those builds have more tokens than
	// processors unless Workers says otherwise; an in-process inflate
	// works while it holds one, so it has one per processor, and a spare
	// P keeps the scheduler from taking the processor away mid-inflate.
	tokens := o.tokens
	if decoder == DecoderISAL {
		tokens = o.Workers
		defer spareProc(tokens)()
	}
	cpu := make(chan struct{}, tokens)
	// decoding counts the files being decoded: once they are fewer than
	// the processors the build may use (the last trailing file, once the
	// leading files are done), each reads ahead of its parsing.
	var decoding atomic.Int64
	decoding.Store(int64(len(stg.leads)))
	alone := func() bool { return decoding.Load() < int64(min(o.Workers, tokens)) }
	for i, path := range o.Files {
		clocks := fileClocks{inflate: tl.phase("inflate " + filepath.Base(path)), parse: tl.phase("parse " + filepath.Base(path))}
		wg.Go(func() {
			if !stg.lead[i] {
				select {
				case <-stg.tailGo:
				case <-ctx.Done():
					errs[i] = &FileError{Path: path, Err: ctx.Err()}
					return
				}
			}
			if !stg.lead[i] {
				decoding.Add(1)
			}
			switched := false
			hook := func(compressed int64) {
				stg.publish(i, compressed)
				if u := stg.union.Load(); u != nil && !stg.lead[i] && !switched {
					stg.switchTail(u, parsers[i])
					switched = true
				}
			}
			n, err := ingest(ctx, decoder, path, ids[i].Size, parsers[i], cpu, o.OnProgress, clocks, hook, alone)
			decoding.Add(-1)
			decompressed[i] = n
			if err != nil {
				errs[i] = &FileError{Path: path, Err: err}
				cancel()
				return
			}
			if stg.lead[i] {
				stg.leadDone()
			}
		})
	}
	wg.Wait()
	if err := firstError(ctx, errs); err != nil {
		return nil, st, err
	}
	for i, fp := range parsers {
		st.Lines += fp.lines
		st.DecompressedBytes += decompressed[i]
	}
	if err := checkUnchanged(o.Files, ids); err != nil {
		return nil, st, err
	}
	joinBuckets, resolved, err := settle(ctx, stg, o, decoder, ids, tmp, writer, cpu, tl)
	if err != nil {
		return nil, st, err
	}
	for _, b := range stg.buckets() {
		st.SpilledBytes += b.written
		if b.mode == probeCodes {
			st.StreamedCodes += b.discarded
		}
	}
	st.ReadAgain = stg.readAgain
	st.CheckedBytes = stg.checked.Load()
	st.DecodeDuration = time.Since(decodeStart)
	joinStart, joinCPU := time.Now(), processCPU()
	keys, js, err := join(ctx, joinBuckets, o.MinFiles, o.MemoryBudget, o.Workers, func(b *bucket) { releasing.Go(b.release) })
	if err != nil {
		return nil, st, err
	}
	keys = append(keys, resolved...)
	other := joinOther(parsers, o.MinFiles)
	if need := setBytes(len(keys), other); o.MaxSetBytes > 0 && need > o.MaxSetBytes {
		return nil, st, fmt.Errorf("a set of %d codes needs %d MiB, budget %d MiB: %w",
			len(keys)+len(other), need>>20, o.MaxSetBytes>>20, ErrOverBudget)
	}
	st.JoinDuration = time.Since(joinStart)
	tl.phase("join").span(joinStart, joinCPU)
	st.JoinRounds = js.rounds
	// The join's buffers are garbage now; hand them back to the OS before
	// the set's table is allocated so the two peaks do not add up.
	setStart, setCPU := time.Now(), processCPU()
	debug.FreeOSMemory()
	set = newSet(keys, other)
	tl.phase("make set").span(setStart, setCPU)
	st.Codes = set.Len()
	if o.IndexPath != "" {
		indexStart, indexCPU := time.Now(), processCPU()
		if err := writeIndex(o.IndexPath, ids, o.MinFiles, set); err != nil {
			st.IndexError = err.Error()
			return set, st, err
		}
		tl.phase("write index").span(indexStart, indexCPU)
		st.IndexWritten = true
	}
	return set, st, nil
}

// firstError prefers a real failure over the cancellations it caused in the
// other goroutines, and the caller's cancellation over both.
func firstError(ctx context.Context, errs []error) error {
	var canceled error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) {
			canceled = err
			continue
		}
		return err
	}
	if canceled != nil {
		if err := context.Cause(ctx); err != nil {
			return err
		}
	}
	return canceled
}

// joinOther counts the non-base-36 codes across files.
func joinOther(parsers []*fileParser, m int) []string {
	counts := make(map[string]int)
	for _, fp := range parsers {
		for s := range fp.other {
			counts[s]++
		}
	}
	var out []string
	for s, c := range counts {
		if c >= m {
			out = append(out, s)
		}
	}
	return out
}

// readBuf is how much one read decompresses; tests lower it so that small
// files take many steps.
var readBuf = 1 << 20

// afterRead, when set, is called after each read of a file; tests count
// the reads with it.
var afterRead func()

// readsAhead is how many reads of one file may wait, decompressed, for its
// parser once the file reads ahead (see ingest).
const readsAhead = 2

// fileClocks time one file's reads (decompression) and its parsing.
type fileClocks struct{ inflate, parse *phaseClock }

// chunk is one read of a file.
type chunk struct {
	buf []byte // the read's buffer; n bytes of it were read
	n   int
	pos int64 // compressed bytes the decoder had consumed after the read
	err error // the read's error: io.EOF after the last bytes
}

// ingest decompresses one file and feeds its lines to fp. It returns the
// number of decompressed bytes.
//
// Each read holds a token of cpu while it decompresses, and each parse one
// while it parses, so the build never runs more of them at once than cpu
// holds. A file reads and parses in turn, one goroutine, while the files
// keep every processor busy; once alone, when set, says that they no longer
// do (the last trailing file, once the leading files are done), the reads
// move to a goroutine of their own that stays a few reads ahead of the
// parsing, so that the file keeps two processors busy rather than one.
// hook, when set, is called on the parsing goroutine after each read was
// parsed, with the compressed bytes that read consumed.
func ingest(ctx context.Context, decoder, path string, size int64, fp *fileParser, cpu chan struct{}, onProgress func(Progress), clocks fileClocks, hook func(int64), alone func() bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s, err := openStream(ctx, decoder, f)
	if err != nil {
		return 0, err
	}
	defer s.close()
	defer func() { clocks.inflate.addCPU(s.childCPU()) }()

	read1 := func(buf []byte) (chunk, error) {
		select {
		case cpu <- struct{}{}:
		case <-ctx.Done():
			return chunk{}, ctx.Err()
		}
		defer func() { <-cpu }()
		t := clocks.inflate.begin()
		n, err := s.r.Read(buf)
		t.end()
		if afterRead != nil {
			afterRead()
		}
		return chunk{buf: buf, n: n, pos: s.compressedPos(), err: err}, nil
	}
	// Until the reads move ahead, free holds the one buffer; then it holds
	// the buffers nobody reads into or parses, and full carries the reads
	// in order. The reading goroutine is stopped and waited for before the
	// stream is closed (deferred above, so run after).
	free := make(chan []byte, readsAhead+1)
	free <- make([]byte, readBuf)
	var full chan chunk
	stop := make(chan struct{})
	var reader sync.WaitGroup
	defer func() {
		close(stop)
		reader.Wait()
	}()
	readAhead := func() {
		for range readsAhead {
			free <- make([]byte, readBuf)
		}
		full = make(chan chunk, readsAhead+1)
		reader.Go(func() {
			defer close(full)
			for {
				var buf []byte
				select {
				case <-stop:
					return
				case buf = <-free:
				}
				// full has room for every buffer: this never blocks.
				c, err := read1(buf)
				if err != nil {
					c.err = err
				}
				full <- c
				if c.err != nil {
					return
				}
			}
		})
	}
	next := func() (chunk, error) {
		if full == nil {
			return read1(<-free)
		}
		c, ok := <-full
		if !ok {
			return c, cmp.Or(ctx.Err(), io.ErrUnexpectedEOF)
		}
		return c, nil
	}

	var carry []byte
	var total, read int64
	last := time.Now()
	report := func(done bool) {
		if onProgress != nil {
			onProgress(Progress{File: path, CompressedRead: read, CompressedTotal: size, Bytes: total, Lines: fp.lines, Done: done})
		}
	}
	// parse parses one read holding a token, with the hook and the
	// progress report, and says whether more follow.
	parse := func(c chunk) (bool, error) {
		select {
		case cpu <- struct{}{}:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		defer func() { <-cpu }()
		t := clocks.parse.begin()
		carry = fp.feed(carry, c.buf[:c.n])
		t.end()
		free <- c.buf
		total += int64(c.n)
		if hook != nil {
			hook(c.pos - read)
		}
		read = c.pos
		if c.err == io.EOF {
			return false, nil
		}
		if c.err != nil {
			// The deferred close stops a child decoder still writing.
			return false, c.err
		}
		if onProgress != nil && time.Since(last) >= progressEvery {
			last = time.Now()
			report(false)
		}
		return true, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		c, err := next()
		if err != nil {
			return total, err
		}
		more, err := parse(c)
		if err != nil {
			return total, err
		}
		if !more {
			break
		}
		if full == nil && alone != nil && alone() {
			readAhead()
		}
	}
	// The last read was made: the child decoder's pipe may be closed.
	reader.Wait()
	if err := s.wait(); err != nil {
		return total, err
	}
	fp.finish(carry)
	for _, b := range fp.buckets {
		if err := b.finish(); err != nil {
			return total, err
		}
	}
	report(true)
	return total, nil
}
