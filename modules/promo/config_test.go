package promo

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"minikart/platform/config"
	"minikart/platform/money"
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

func TestRuleCompiles(t *testing.T) {
	tests := []struct {
		name string
		in   Rule
		want rule
	}{
		{"a whole percentage", Rule{Discount: "18%"}, rule{basisPoints: 1800}},
		{"a fractional percentage", Rule{Discount: "12.5%"}, rule{basisPoints: 1250}},
		{"the smallest percentage", Rule{Discount: "0.01%"}, rule{basisPoints: 1}},
		{"a full percentage", Rule{Discount: "100%"}, rule{basisPoints: 10000}},
		{"a percentage with spaces", Rule{Discount: " 18 % "}, rule{basisPoints: 1800}},
		{"an amount", Rule{Discount: "5.00"}, rule{amount: 500}},
		{"a whole amount", Rule{Discount: "5"}, rule{amount: 500}},
		{"an amount with one decimal", Rule{Discount: "0.5"}, rule{amount: 50}},
		{"cheapest item free", Rule{Discount: "cheapest_item_free"}, rule{cheapestItemFree: true}},
		{"a minimum subtotal", Rule{Discount: "10%", MinSubtotal: "20.00"}, rule{basisPoints: 1000, minSubtotal: 2000}},
		{"a minimum subtotal with a free item", Rule{Discount: "cheapest_item_free", MinSubtotal: "15"}, rule{cheapestItemFree: true, minSubtotal: 1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.compile()
			if err != nil || got != tt.want {
				t.Errorf("compile(%+v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRuleRejects(t *testing.T) {
	tests := []struct {
		name string
		in   Rule
		want string
	}{
		{"no discount", Rule{}, `discount ""`},
		{"zero percent", Rule{Discount: "0%"}, "a percentage must be"},
		{"a percentage that rounds to nothing", Rule{Discount: "0.001%"}, "a percentage must be"},
		{"a negative percentage", Rule{Discount: "-5%"}, "a percentage must be"},
		{"over 100 percent", Rule{Discount: "100.5%"}, "a percentage must be"},
		{"a bare percent sign", Rule{Discount: "%"}, "a percentage must be"},
		{"not a number", Rule{Discount: "abc%"}, "a percentage must be"},
		{"NaN", Rule{Discount: "NaN%"}, "a percentage must be"},
		{"a zero amount", Rule{Discount: "0.00"}, "want a percentage"},
		{"a negative amount", Rule{Discount: "-5"}, "want a percentage"},
		{"three decimals", Rule{Discount: "5.001"}, "want a percentage"},
		{"an unknown word", Rule{Discount: "free"}, "want a percentage"},
		{"the free rule is lower-case", Rule{Discount: "CHEAPEST_ITEM_FREE"}, "want a percentage"},
		{"a bad minimum subtotal", Rule{Discount: "10%", MinSubtotal: "20,00"}, `min_subtotal "20,00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.in.compile()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("compile(%+v) err = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestRuleDiscount(t *testing.T) {
	tests := []struct {
		name  string
		rule  rule
		lines []Line
		want  money.Cents
	}{
		{"percent of the subtotal", rule{basisPoints: 1800}, []Line{{UnitPrice: 1000, Quantity: 2}, {UnitPrice: 500, Quantity: 1}}, 450},
		{"percent rounds half up", rule{basisPoints: 1000}, []Line{{UnitPrice: 1005, Quantity: 1}}, 101},
		{"percent rounds down below half", rule{basisPoints: 1800}, []Line{{UnitPrice: 1234, Quantity: 1}}, 222},
		{"percent of one cent", rule{basisPoints: 5000}, []Line{{UnitPrice: 1, Quantity: 1}}, 1},
		{"100 percent is the subtotal", rule{basisPoints: 10000}, []Line{{UnitPrice: 650, Quantity: 3}}, 1950},
		{"an amount", rule{amount: 500}, []Line{{UnitPrice: 650, Quantity: 1}}, 500},
		{"an amount is capped at the subtotal", rule{amount: 500}, []Line{{UnitPrice: 300, Quantity: 1}}, 300},
		{"the cheapest unit is free with two products", rule{cheapestItemFree: true}, []Line{{UnitPrice: 650, Quantity: 1}, {UnitPrice: 400, Quantity: 1}}, 400},
		{"the cheapest unit is free with two units of one product", rule{cheapestItemFree: true}, []Line{{UnitPrice: 650, Quantity: 2}}, 650},
		{"only one unit is free", rule{cheapestItemFree: true}, []Line{{UnitPrice: 400, Quantity: 5}, {UnitPrice: 900, Quantity: 1}}, 400},
		{"nothing is free with one unit", rule{cheapestItemFree: true}, []Line{{UnitPrice: 650, Quantity: 1}}, 0},
		{"below the minimum subtotal", rule{basisPoints: 1000, minSubtotal: 2000}, []Line{{UnitPrice: 1999, Quantity: 1}}, 0},
		{"at the minimum subtotal", rule{basisPoints: 1000, minSubtotal: 2000}, []Line{{UnitPrice: 1000, Quantity: 2}}, 200},
		{"an amount below the minimum subtotal", rule{amount: 500, minSubtotal: 2000}, []Line{{UnitPrice: 1500, Quantity: 1}}, 0},
		{"no lines", rule{basisPoints: 1000}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.discount(tt.lines); got != tt.want {
				t.Errorf("discount = %d, want %d", got, tt.want)
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
