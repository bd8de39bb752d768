// Package couponcli implements the "coupons" subcommands: generate test
// data, build the coupon index ahead of time, and check a code against it.
// The promo module contributes Command to the application's commands.
package couponcli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"minikart/modules/promo/internal/coupongen"
	"minikart/modules/promo/internal/couponset"
	"minikart/platform/cli"
)

// Defaults are the settings from the application config that flags override.
type Defaults struct {
	// Files are the gzip coupon files.
	Files []string
	// MinFiles is how many different files must hold a code (0 means 2).
	MinFiles int
	// IndexPath is where the built index lives.
	IndexPath string
	// Decoder is the gzip decoder build uses ("" means auto).
	Decoder string
}

// ErrRejected is returned by "check" when the code is not valid, after the
// verdict was printed: the command exits with status 1 and no other message.
var ErrRejected = &cli.ExitError{Code: cli.ExitFailure}

const filesHelp = `Files default to promo.files (MINIKART_PROMO_FILES), the index to
promo.index_path (MINIKART_PROMO_INDEX_PATH); files given with --files
get their own index, coupons.idx beside them, unless --index says where.`

// Command returns the "coupons" command, whose subcommands generate test
// data, build the coupon index ahead of time and check a code against it,
// with d as the defaults of their flags.
func Command(d Defaults) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coupons",
		Short: "make test coupon files, build the index, check a code",
		Long: "Make test coupon files, build the coupon index ahead of a deploy, check a code against it.\n\n" + filesHelp +
			"\n\nExit status: 0 success (a valid code), 1 failure (a code not valid), 2 usage error.",
	}
	cmd.AddCommand(generateCommand(), buildCommand(d), checkCommand(d))
	return cmd
}

func generateCommand() *cobra.Command {
	var profile, out string
	var scale float64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "write synthetic couponbase1..3.gz and expected-valid.txt into a directory",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runGenerate(c.Context(), profile, scale, out, seed, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&profile, "profile", coupongen.ProfileReal, "data profile: real or dense")
	cmd.Flags().Float64Var(&scale, "scale", 0.01, "size relative to production (1.0 = full size)")
	cmd.Flags().StringVar(&out, "out", "", "output directory (default data/generated/<profile>-<scale>)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	return cmd
}

func runGenerate(ctx context.Context, profile string, scale float64, out string, seed uint64, stdout, stderr io.Writer) error {
	dir := out
	if dir == "" {
		dir = filepath.Join("data", "generated", fmt.Sprintf("%s-%g", profile, scale))
	}
	start := time.Now()
	rep := newReporter(stderr, "generate", false)
	res, err := coupongen.Generate(ctx, coupongen.Config{
		Profile: profile, Scale: scale, Dir: dir, Seed: seed,
		OnProgress: func(written, total int64) { rep.update(written, total, "lines") },
	})
	rep.finish()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	var lines int64
	for _, n := range res.Lines {
		lines += n
	}
	fmt.Fprintf(stdout, "generated %s profile, %d lines in %d files, %d valid codes, into %s in %s\n",
		profile, lines, len(res.Files), res.ValidCount, dir, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "next, with these files:\n"+
		"  coupons build --files %[1]s          (index %[2]s)\n"+
		"  coupons check --files %[1]s CODE     (codes in %[3]s)\n"+
		"  serve them:  MINIKART_PROMO_FILES=%[4]s MINIKART_PROMO_INDEX_PATH=%[2]s\n",
		dir, filepath.Join(dir, "coupons.idx"), filepath.Join(dir, coupongen.ExpectedFile), strings.Join(res.Files, ","))
	return nil
}

// fileSet is the files and index that build and check work on.
type fileSet struct {
	files    []string
	index    string
	minFiles int
}

// fileFlags registers the flags shared by build and check. The files come
// from --files (a comma list; a directory stands for the .gz files in it)
// or promo.files; the index from --index, else promo.index_path, except
// that files named with --files get their own index beside them, so that
// trying another set never replaces the configured set's index.
func fileFlags(fs *pflag.FlagSet, d Defaults) func() (fileSet, error) {
	files := fs.String("files", strings.Join(d.Files, ","), "coupon files, comma-separated; a directory means its .gz files")
	index := fs.String("index", d.IndexPath, "index file (default promo.index_path, or coupons.idx beside files given with --files)")
	minFiles := fs.Int("min-files", d.MinFiles, "files a code must appear in (0 = 2)")
	return func() (fileSet, error) {
		paths, err := expandFiles(*files)
		if err != nil {
			return fileSet{}, err
		}
		fset := fileSet{files: paths, index: *index, minFiles: *minFiles}
		if fs.Changed("files") && !fs.Changed("index") && len(paths) > 0 {
			fset.index = filepath.Join(filepath.Dir(paths[0]), "coupons.idx")
		}
		return fset, nil
	}
}

// expandFiles splits a comma list of files, replacing each directory by
// the .gz files in it, in name order.
func expandFiles(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		info, err := os.Stat(f)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no coupon file or directory %s", f)
		}
		if err != nil || !info.IsDir() {
			out = append(out, f) // the build names what is wrong with it
			continue
		}
		gz, err := filepath.Glob(filepath.Join(f, "*.gz"))
		if err != nil {
			return nil, err
		}
		if len(gz) == 0 {
			return nil, fmt.Errorf("no .gz files in %s", f)
		}
		out = append(out, gz...) // Glob sorts
	}
	return out, nil
}

// checkOwner refuses to replace an index that belongs to another set of
// files: it names them and says how to give each set its own index.
func checkOwner(fset fileSet) error {
	owner, minFiles, foreign := couponset.ForeignIndex(fset.index, fset.files, fset.minFiles)
	if !foreign {
		return nil
	}
	return fmt.Errorf("index %s belongs to other files (%s, min files %d); give these files their own index with --index PATH "+
		"(the server's is promo.index_path, MINIKART_PROMO_INDEX_PATH), or replace it with --force",
		fset.index, strings.Join(owner, ", "), minFiles)
}

func buildCommand(d Defaults) *cobra.Command {
	var o couponset.Options
	var force, timeline bool
	cmd := &cobra.Command{
		Use:   "build",
		Short: "decompress the coupon files, compute the valid codes, write the index",
		Long: "Decompress the coupon files, compute the valid codes, write the index. It refuses to replace\n" +
			"an index that belongs to other files (--force).\n\n" + filesHelp,
		Args: cobra.NoArgs,
	}
	fileSet := fileFlags(cmd.Flags(), d)
	cmd.Flags().StringVar(&o.Decoder, "decoder", cmp.Or(d.Decoder, couponset.DecoderAuto), "gzip decoder: auto, isal, igzip, klauspost or gzip")
	cmd.Flags().IntVar(&o.Workers, "workers", 0, "goroutines decoding at once (the files take turns) and join goroutines (0 = every processor)")
	cmd.Flags().StringVar(&o.TempDir, "temp-dir", "", "directory for spill files (default the system temp dir)")
	cmd.Flags().Int64Var(&o.MemoryBudget, "memory-budget", couponset.DefaultMemoryBudget, "join memory budget in bytes")
	cmd.Flags().BoolVar(&force, "force", false, "replace an index that belongs to other files")
	cmd.Flags().BoolVar(&timeline, "timeline", false, "print the build's phases (inflate and parse per file, spill writes, join) with wall and CPU time")
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		fset, err := fileSet()
		if err != nil {
			return fmt.Errorf("build: %w", err)
		}
		return runBuild(c.Context(), fset, o, force, timeline, c.OutOrStdout(), c.ErrOrStderr())
	}
	return cmd
}

func runBuild(ctx context.Context, fset fileSet, o couponset.Options, force, timeline bool, stdout, stderr io.Writer) error {
	if fset.index != "" && !force {
		if err := checkOwner(fset); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	o.Files, o.MinFiles, o.IndexPath = fset.files, fset.minFiles, fset.index
	rep := newReporter(stderr, "build", true)
	// Start the bar at the full size so its rate and ETA count from now,
	// not from the first report two seconds in.
	var total int64
	for _, f := range o.Files {
		if info, err := os.Stat(f); err == nil {
			total += info.Size()
		}
	}
	rep.update(0, total, "MB compressed")
	o.OnProgress = rep.fileProgress
	set, st, err := couponset.Build(ctx, o)
	rep.finish()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	fmt.Fprintf(stdout, "built %d valid codes from %d files (%d lines, %.1f MB compressed, %.1f MB decompressed) with %s in %s",
		set.Len(), st.Files, st.Lines, float64(st.CompressedBytes)/1e6, float64(st.DecompressedBytes)/1e6,
		st.Decoder, st.Duration.Round(time.Millisecond))
	if st.IndexWritten {
		fmt.Fprintf(stdout, "; index %s", o.IndexPath)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "decode %s, join %s (%d round(s)), %.1f MB spilled (%.1f MB read back to check), %d codes checked as they were parsed, %d file(s) read again\n",
		st.DecodeDuration.Round(time.Millisecond), st.JoinDuration.Round(time.Millisecond),
		st.JoinRounds, float64(st.SpilledBytes)/1e6, float64(st.CheckedBytes)/1e6, st.StreamedCodes, st.ReadAgain)
	if timeline {
		printTimeline(stdout, st)
	}
	return nil
}

// printTimeline writes the build's phases as a table, one phase a line with
// its name last: start and end (seconds from the start of the build), busy
// (the wall time its steps took) and CPU seconds; then the whole build's
// wall and CPU time and how many processors it kept busy on average.
func printTimeline(w io.Writer, st couponset.Stats) {
	fmt.Fprintf(w, "%8s %8s %8s %8s  %s\n", "start_s", "end_s", "busy_s", "cpu_s", "phase")
	for _, p := range st.Phases {
		fmt.Fprintf(w, "%8.3f %8.3f %8.3f %8.3f  %s\n", p.Start.Seconds(), p.End.Seconds(), p.Busy.Seconds(), p.CPU.Seconds(), p.Name)
	}
	wall := st.Duration.Seconds()
	fmt.Fprintf(w, "%8.3f %8.3f %8.3f %8.3f  %s\n", 0.0, wall, wall, st.CPU.Seconds(), "build")
	if wall > 0 {
		fmt.Fprintf(w, "cores busy: %.2f\n", st.CPU.Seconds()/wall)
	}
}

func checkCommand(d Defaults) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check CODE",
		Short: "answer from the index whether CODE is valid (the index must match the files: run build first)",
		Long: "Answer from the index whether CODE is valid, and print the verdict; the index must match\n" +
			"the files (run build first). Exit status 0 for a valid code, 1 for one that is not.\n\n" + filesHelp,
		Args: cobra.ExactArgs(1),
	}
	fileSet := fileFlags(cmd.Flags(), d)
	cmd.RunE = func(c *cobra.Command, args []string) error {
		fset, err := fileSet()
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		return runCheck(args[0], fset, c.OutOrStdout())
	}
	return cmd
}

func runCheck(code string, fset fileSet, stdout io.Writer) error {
	if fset.index == "" {
		return errors.New("check: no index configured (use --index)")
	}
	set, _, err := couponset.OpenIndex(couponset.Options{Files: fset.files, MinFiles: fset.minFiles, IndexPath: fset.index})
	if err != nil {
		return fmt.Errorf("check: %w (run \"coupons build\" with the same --files and --index first)", err)
	}
	v := set.Lookup(code)
	fmt.Fprintf(stdout, "%s: %s\n", strings.TrimSpace(code), v)
	if v != couponset.Valid {
		return ErrRejected
	}
	return nil
}

// reporter shows progress as a bar on a terminal and as a log line every few
// seconds otherwise, so CI logs stay readable.
type reporter struct {
	mu      sync.Mutex
	w       io.Writer
	name    string
	bar     *progressbar.ProgressBar
	bytes   bool
	files   map[string]couponset.Progress
	start   time.Time
	lastLog time.Time
}

func newReporter(w io.Writer, name string, bytes bool) *reporter {
	r := &reporter{w: w, name: name, bytes: bytes, start: time.Now(), lastLog: time.Now(), files: map[string]couponset.Progress{}}
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200 * time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		}
		if bytes {
			opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("lines"))
		}
		r.bar = progressbar.NewOptions64(-1, opts...)
	}
	return r
}

// fileProgress aggregates the per-file reports of a build into compressed
// bytes read over the total.
func (r *reporter) fileProgress(p couponset.Progress) {
	r.mu.Lock()
	r.files[p.File] = p
	var read, total, lines int64
	for _, f := range r.files {
		read += f.CompressedRead
		total += f.CompressedTotal
		lines += f.Lines
	}
	r.mu.Unlock()
	r.update(read, total, fmt.Sprintf("MB compressed, %d lines", lines))
}

func (r *reporter) update(done, total int64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		if r.bar.GetMax64() != total {
			r.bar.ChangeMax64(total)
		}
		r.bar.Set64(done)
		return
	}
	now := time.Now()
	if now.Sub(r.lastLog) < 3*time.Second {
		return
	}
	r.lastLog = now
	el := now.Sub(r.start).Seconds()
	rate := float64(done) / el
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if r.bytes {
		fmt.Fprintf(r.w, "%s: %3.0f%% %.0f/%.0f %s, %.1f MB/s, ETA %s\n", r.name, pct(done, total),
			float64(done)/1e6, float64(total)/1e6, unit, rate/1e6, eta)
		return
	}
	fmt.Fprintf(r.w, "%s: %3.0f%% %d/%d %s, %.0f/s, ETA %s\n", r.name, pct(done, total), done, total, unit, rate, eta)
}

func (r *reporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Finish()
	}
}

func pct(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return 100 * float64(done) / float64(total)
}
