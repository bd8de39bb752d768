package promo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"minikart/platform/cli"
)

func TestCouponsBuildHonoursPromoDecoder(t *testing.T) {
	c := Config{Files: sampleFiles(), MinFiles: 2, Decoder: "gzip", IndexPath: filepath.Join(t.TempDir(), "coupons.idx")}
	var out, errOut bytes.Buffer
	if code := cli.Execute(context.Background(), newCouponsCommand(c), []string{"build"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), " with gzip ") {
		t.Errorf("build ignored promo.decoder: %s", out.String())
	}
}
