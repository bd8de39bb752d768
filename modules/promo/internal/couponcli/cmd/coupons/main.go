// Command coupons runs the coupon subcommands on their own, without the
// application, for benchmarks and offline builds. Besides generate, build and
// check it has "measure", which times a warm start from the index and the
// lookups, and compares the set with an expected-valid list.
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"minikart/modules/promo/internal/couponcli"
	"minikart/modules/promo/internal/coupongen"
	"minikart/modules/promo/internal/couponset"
	"minikart/platform/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := couponcli.Command(couponcli.Defaults{MinFiles: 2})
	root.AddCommand(measureCommand())
	code := cli.Execute(ctx, root, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func measureCommand() *cobra.Command {
	var files, index, expected string
	var minFiles int
	cmd := &cobra.Command{
		Use:   "measure",
		Short: "time a warm start from the index and the lookups; compare the set with an expected-valid list",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return measure(c.Context(), couponset.Options{Files: strings.Split(files, ","), MinFiles: minFiles, IndexPath: index}, expected)
		},
	}
	cmd.Flags().StringVar(&files, "files", "", "comma-separated coupon files")
	cmd.Flags().StringVar(&index, "index", "", "index file (must be up to date)")
	cmd.Flags().IntVar(&minFiles, "min-files", 2, "files a code must appear in")
	cmd.Flags().StringVar(&expected, "expected", "", "expected-valid list to compare with")
	return cmd
}

// measure prints one "name: value" line per figure.
func measure(ctx context.Context, o couponset.Options, expected string) error {
	set, st, err := couponset.Load(ctx, o)
	if err != nil {
		return err
	}
	if !st.FromIndex {
		return errors.New("measure: the index was not used; run build first")
	}
	fmt.Printf("warm_start_ms: %.1f\n", float64(st.Duration.Microseconds())/1000)
	fmt.Printf("valid_codes: %d\n", set.Len())

	hits, misses := lookupInputs(set)
	mixed := append(slices.Clone(hits), misses...)
	rand.New(rand.NewPCG(1, 3)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	for _, m := range []struct {
		name   string
		inputs []string
	}{{"lookup", mixed}, {"lookup_hit", hits}, {"lookup_miss", misses}} {
		if len(m.inputs) == 0 {
			continue
		}
		ns, allocs, ratio := timeLookups(set, m.inputs)
		fmt.Printf("%s_ns: %.1f\n", m.name, ns)
		fmt.Printf("%s_allocs_per_op: %.2f\n", m.name, allocs)
		fmt.Printf("%s_hit_ratio: %.2f\n", m.name, ratio)
	}

	if expected != "" {
		want, err := coupongen.ReadExpected(expected)
		if err != nil {
			return fmt.Errorf("measure: %w", err)
		}
		fmt.Printf("exact: %t\n", slices.Equal(set.Codes(), want))
	}
	return nil
}

// timeLookups looks every input up, in turn, two million times and returns
// the nanoseconds and allocations per lookup and the share found valid.
func timeLookups(set *couponset.Set, inputs []string) (ns, allocs, hitRatio float64) {
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
	return float64(el.Nanoseconds()) / rounds, float64(ms1.Mallocs-ms0.Mallocs) / rounds, float64(hits) / rounds
}

// lookupInputs returns valid codes in client spelling (every other one lower
// case with spaces around) and random codes of every accepted length and a
// few invalid lengths, as misses.
func lookupInputs(set *couponset.Set) (hits, misses []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	codes := set.Codes()
	for i, c := range codes[:min(len(codes), 4096)] {
		if i%2 == 0 {
			c = " " + strings.ToLower(c) + " "
		}
		hits = append(hits, c)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for len(misses) < 8192 {
		n := 7 + rng.IntN(5)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if set.Lookup(string(b)) != couponset.Valid {
			misses = append(misses, string(b))
		}
	}
	return hits, misses
}
