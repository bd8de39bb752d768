package promo

import (
	"context"
	"io"

	"minikart/modules/promo/internal/couponcli"
	"minikart/platform/config"
)

// RunCommand runs one `coupons` subcommand (generate, build, check) with
// the promo section of src as its defaults, and returns the exit status:
// 0 success or a valid code, 1 a code that is not valid, 2 any error.
func RunCommand(ctx context.Context, args []string, src *config.Source, stdout, stderr io.Writer) int {
	var c Config
	if err := src.Decode("promo", &c); err != nil {
		io.WriteString(stderr, "error: "+err.Error()+"\n")
		return 2
	}
	err := couponcli.Run(ctx, args, couponcli.Defaults{Files: c.Files, MinFiles: c.MinFiles, IndexPath: c.IndexPath, Decoder: c.Decoder}, stdout, stderr)
	if err != nil && couponcli.ExitCode(err) == 2 {
		io.WriteString(stderr, "error: "+err.Error()+"\n")
	}
	return couponcli.ExitCode(err)
}
