package promo

import (
	"context"
	"io"

	"minikart/modules/promo/internal/couponcli"
	"minikart/platform/cli"
)

// newCouponsCommand is `minikart coupons generate|build|check`, with the
// promo section as the defaults of its flags. Its exit status is 0 for
// success or a valid code, 1 for a code that is not valid, 2 for any error.
func newCouponsCommand(c Config) cli.Command {
	return cli.Command{
		Name:    "coupons",
		Usage:   "generate|build|check",
		Summary: "make test coupon files, build the index, check a code (coupons help)",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			err := couponcli.Run(ctx, args, couponcli.Defaults{Files: c.Files, MinFiles: c.MinFiles, IndexPath: c.IndexPath, Decoder: c.Decoder}, stdout, stderr)
			if err != nil && couponcli.ExitCode(err) == 2 {
				io.WriteString(stderr, "error: "+err.Error()+"\n")
			}
			return couponcli.ExitCode(err)
		},
	}
}
