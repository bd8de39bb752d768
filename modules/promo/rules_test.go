package promo

import (
	"strings"
	"testing"

	"minikart/platform/money"
)

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

func TestRuleBookResolvesEveryCodeInOnePlace(t *testing.T) {
	book, errs := RulesConfig{
		Default: Rule{Discount: "10%", MaxRedemptions: 3},
		Codes:   map[string]Rule{"happyhrs": {Discount: "18%"}, " fiveoff12 ": {Discount: "5.00"}},
	}.compile()
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		code string
		want rule
	}{
		{"HAPPYHRS", rule{basisPoints: 1800}},
		{"FIVEOFF12", rule{amount: 500}},
		{"SPRING2026", rule{basisPoints: 1000, maxRedemptions: 3}},
	}
	for _, tt := range tests {
		if got := book.forCode(tt.code); got != tt.want {
			t.Errorf("forCode(%q) = %+v, want %+v", tt.code, got, tt.want)
		}
	}
}

func TestRulesCompileReportsEveryBadRule(t *testing.T) {
	_, errs := RulesConfig{
		Default: Rule{Discount: "lots"},
		Codes:   map[string]Rule{"HAPPYHRS": {Discount: "0%"}, "SHORT": {Discount: "5%"}},
	}.compile()
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{"rules.default: discount \"lots\"", "rules.codes.HAPPYHRS: discount \"0%\"", "rules.codes.SHORT: a code has 8 to 10"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors:\n%s\nwant %q", got, want)
		}
	}
}
