package promo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minikart/platform/config"
)

func decodePromo(t *testing.T, overrides map[string]any) (Config, error) {
	t.Helper()
	src, err := config.Load(config.Options{Env: config.Test, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	return c, src.Decode("promo", &c)
}

func TestConfigRejectsEveryBadKey(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string
	}{
		{"promo.files", []string{}, "promo.files: must name at least one coupon file"},
		{"promo.files", []string{"a.gz", " "}, "promo.files[1]: is empty"},
		{"promo.min_files", 0, "promo.min_files: must be between 1 and the number of files (3), got 0"},
		{"promo.min_files", 4, "promo.min_files: must be between 1 and the number of files (3), got 4"},
		{"promo.load", "lazy", `promo.load: "lazy" is not one of blocking, background`},
		{"promo.decoder", "zstd", `promo.decoder: "zstd" is not one of auto, isal, igzip, klauspost, gzip`},
		{"promo.rules.default.discount", "lots", `promo.rules.default: discount "lots": want a percentage ("10%"), an amount ("5.00") or cheapest_item_free`},
		{"promo.rules.default.discount", "0%", `promo.rules.default: discount "0%": a percentage must be in [0.01%, 100%]`},
		{"promo.rules.default.min_subtotal", "twenty", `promo.rules.default: min_subtotal "twenty": want an amount like 20.00`},
		{"promo.rules.codes.HAPPYHRS.discount", "180%", `promo.rules.codes.HAPPYHRS: discount "180%": a percentage must be in [0.01%, 100%]`},
		{"promo.rules.codes.HAPPYHRS.min_subtotal", "-1", `promo.rules.codes.HAPPYHRS: min_subtotal "-1"`},
		{"promo.rules.codes.SHORT.discount", "5%", "promo.rules.codes.SHORT: a code has 8 to 10 characters"},
		{"promo.rules.codes.HAPPYHRS.max_redemptions", -1, "promo.rules.codes.HAPPYHRS: max_redemptions must be 0 (unlimited) or more, got -1"},
		{"promo.rules.default.max_redemptions", -5, "promo.rules.default: max_redemptions must be 0 (unlimited) or more, got -5"},
		{"promo.rules.codes.ELEVENCHARS.discount", "5%", "promo.rules.codes.ELEVENCHARS: a code has 8 to 10 characters"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.key, tt.value), func(t *testing.T) {
			_, err := decodePromo(t, map[string]any{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := decodePromo(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 3 || c.MinFiles != 2 || c.Load != LoadBlocking || c.Rules.Default.Discount != "10%" {
		t.Errorf("config = %+v", c)
	}
	// Viper lower-cases map keys.
	if c.Rules.Codes["happyhrs"].Discount != "18%" || c.Rules.Codes["buygeton"].Discount != CheapestItemFree {
		t.Errorf("codes = %+v", c.Rules.Codes)
	}
}

func TestCheckNamesAnUnwritableIndexPath(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present.gz")
	if err := os.WriteFile(present, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		index string
		want  string
	}{
		{"no index", "", ""},
		{"a directory that takes files", filepath.Join(dir, "coupons.idx"), ""},
		{"a missing directory", filepath.Join(dir, "nowhere", "coupons.idx"), "no such file or directory"},
		{"below a file", filepath.Join(present, "coupons.idx"), "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Files: []string{present}, IndexPath: tt.index}.Check(config.Production)
			if (err == nil) != (tt.want == "") || (err != nil && (!strings.Contains(err.Error(), "index_path: no index can be written at") || !strings.Contains(err.Error(), tt.want))) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*.check*")); len(left) > 0 {
				t.Errorf("the check left %v behind", left)
			}
		})
	}
}

func TestCheckNamesUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	present := dir + "/present.gz"
	if err := os.WriteFile(present, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"every file readable", []string{present, present}, ""},
		{"a missing file", []string{present, dir + "/missing.gz"}, `files[1]: "` + dir + `/missing.gz" cannot be read: no such file or directory`},
		{"a directory", []string{dir, present}, `files[0]: "` + dir + `" cannot be read: is a directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Files: tt.files}.Check(config.Production)
			if (err == nil) != (tt.want == "") || (err != nil && err.Error() != tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
