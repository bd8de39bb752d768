// Command coupons runs the coupon subcommands on their own, without the
// application, for benchmarks and offline builds. Besides generate, build and
// check it has "measure", which times a warm start from the index and the
// lookups, and compares the set with an expected-valid list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"minikart/modules/promo/internal/couponcli"
	"minikart/modules/promo/internal/coupongen"
	"minikart/modules/promo/internal/couponset"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "measure" {
		err = measure(ctx, os.Args[2:])
	} else {
		err = couponcli.Run(ctx, os.Args[1:], couponcli.Defaults{MinFiles: 2}, os.Stdout, os.Stderr)
	}
	if err != nil && !errors.Is(err, couponcli.ErrRejected) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "coupons:", err)
	}
	stop()
	os.Exit(couponcli.ExitCode(err))
}

// measure prints one "name: value" line per figure.
func measure(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coupons measure", flag.ContinueOnError)
	files := fs.String("files", "", "comma-separated coupon files")
	index := fs.String("index", "", "index file (must be up to date)")
	minFiles := fs.Int("min-files", 2, "files a code must appear in")
	expected := fs.String("expected", "", "expected-valid list to compare with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := couponset.Options{Files: strings.Split(*files, ","), MinFiles: *minFiles, IndexPath: *index}

	set, st, err := couponset.Load(ctx, o)
	if err != nil {
		return err
	}
	if !st.FromIndex {
		return errors.New("measure: the index was not used; run build first")
	}
	fmt.Printf("warm_start_ms: %.1f\n", float64(st.Duration.Microseconds())/1000)
	fmt.Printf("valid_codes: %d\n", set.Len())

	inputs := lookupInputs(set)
	const rounds = 2_000_000
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	hits := 0
	for i := range rounds {
		if set.Lookup(inputs[i%len(inputs)]) == couponset.Valid {
			hits++
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&ms1)
	fmt.Printf("lookup_ns: %.1f\n", float64(el.Nanoseconds())/rounds)
	fmt.Printf("lookup_allocs_per_op: %.2f\n", float64(ms1.Mallocs-ms0.Mallocs)/rounds)
	fmt.Printf("lookup_hit_ratio: %.2f\n", float64(hits)/rounds)

	if *expected != "" {
		want, err := coupongen.ReadExpected(*expected)
		if err != nil {
			return fmt.Errorf("measure: %w", err)
		}
		fmt.Printf("exact: %t\n", slices.Equal(set.Codes(), want))
	}
	return nil
}

// lookupInputs mixes valid codes (in client spelling: lower case, spaces)
// with random codes of every accepted length and a few invalid lengths.
func lookupInputs(set *couponset.Set) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	var in []string
	codes := set.Codes()
	for i, c := range codes[:min(len(codes), 4096)] {
		if i%2 == 0 {
			c = " " + strings.ToLower(c) + " "
		}
		in = append(in, c)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for len(in) < 8192 {
		n := 7 + rng.IntN(5)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in = append(in, string(b))
	}
	rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
	return in
}
