package promo

import (
	"github.com/spf13/cobra"

	"minikart/modules/promo/internal/couponcli"
)

// newCouponsCommand is `minikart coupons generate|build|check`, with the
// promo section as the defaults of its flags.
func newCouponsCommand(c Config) *cobra.Command {
	return couponcli.Command(couponcli.Defaults{Files: c.Files, MinFiles: c.MinFiles, IndexPath: c.IndexPath, Decoder: c.Decoder})
}
