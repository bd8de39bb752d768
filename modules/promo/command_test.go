package promo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"minikart/platform/config"
)

func TestCouponsBuildHonoursPromoDecoder(t *testing.T) {
	dir := t.TempDir()
	files := sampleFiles()
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"promo.decoder": "gzip", "promo.files": files, "promo.index_path": filepath.Join(dir, "coupons.idx"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := RunCommand(context.Background(), []string{"build"}, src, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), " with gzip ") {
		t.Errorf("build ignored promo.decoder: %s", out.String())
	}
}
