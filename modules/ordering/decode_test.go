package ordering

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"minikart/platform/apperr"
)

var testLimits = limits{maxItems: 3, maxQuantity: 10}

func TestDecodeOrderAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want PlaceOrder
	}{
		{"one item", `{"items":[{"productId":"1","quantity":2}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 2}}}},
		{"a coupon", `{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":1}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}, CouponCode: "HAPPYHRS"}},
		{"a coupon is trimmed", `{"couponCode":"  happyhrs ","items":[{"productId":"1","quantity":1}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}, CouponCode: "happyhrs"}},
		{"a null coupon", `{"couponCode":null,"items":[{"productId":"1","quantity":1}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}}},
		{"a blank coupon", `{"couponCode":"   ","items":[{"productId":"1","quantity":1}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}}},
		{"unknown fields are ignored", `{"customer":{"name":"x"},"items":[{"productId":"1","quantity":1,"note":"hot"}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}}},
		{"a product id is trimmed", `{"items":[{"productId":" 7 ","quantity":1}]}`,
			PlaceOrder{Items: []Item{{ProductID: "7", Quantity: 1}}}},
		{"the largest quantity and the most items", `{"items":[{"productId":"1","quantity":10},{"productId":"2","quantity":1},{"productId":"1","quantity":3}]}`,
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 10}, {ProductID: "2", Quantity: 1}, {ProductID: "1", Quantity: 3}}}},
		{"whitespace around the body", " \n{\"items\" : [ {\"productId\":\"1\",\"quantity\":1} ]}\n",
			PlaceOrder{Items: []Item{{ProductID: "1", Quantity: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeOrder([]byte(tt.body), testLimits)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decodeOrder = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestDecodeOrderRejects(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   *apperr.Error
		fields []string
	}{
		{"an empty body", ``, apperr.ErrInvalidJSON, nil},
		{"a blank body", " \n ", apperr.ErrInvalidJSON, nil},
		{"broken JSON", `{"items":[`, apperr.ErrInvalidJSON, nil},
		{"an array", `[{"productId":"1","quantity":1}]`, apperr.ErrInvalidJSON, nil},
		{"null", `null`, apperr.ErrInvalidJSON, nil},
		{"a string", `"order"`, apperr.ErrInvalidJSON, nil},
		{"trailing garbage", `{"items":[]} x`, apperr.ErrInvalidJSON, nil},
		{"no items", `{}`, apperr.ErrMissingField, []string{"items"}},
		{"null items", `{"items":null}`, apperr.ErrMissingField, []string{"items"}},
		{"empty items", `{"items":[]}`, apperr.ErrMissingField, []string{"items"}},
		{"items as an object", `{"items":{"productId":"1"}}`, apperr.ErrInvalidField, []string{"items"}},
		{"items as a string", `{"items":"1"}`, apperr.ErrInvalidField, []string{"items"}},
		{"too many items", `{"items":[{"productId":"1","quantity":1},{"productId":"1","quantity":1},{"productId":"1","quantity":1},{"productId":"1","quantity":1}]}`, ErrTooManyItems, []string{"items"}},
		{"an item that is no object", `{"items":[1]}`, apperr.ErrInvalidField, []string{"items[0]"}},
		{"a null item", `{"items":[null]}`, apperr.ErrInvalidField, []string{"items[0]"}},
		{"no product id", `{"items":[{"quantity":1}]}`, apperr.ErrMissingField, []string{"items[0].productId"}},
		{"a null product id", `{"items":[{"productId":null,"quantity":1}]}`, apperr.ErrMissingField, []string{"items[0].productId"}},
		{"a blank product id", `{"items":[{"productId":"  ","quantity":1}]}`, apperr.ErrMissingField, []string{"items[0].productId"}},
		{"a numeric product id", `{"items":[{"productId":1,"quantity":1}]}`, apperr.ErrInvalidField, []string{"items[0].productId"}},
		{"no quantity", `{"items":[{"productId":"1"}]}`, apperr.ErrMissingField, []string{"items[0].quantity"}},
		{"quantity 0", `{"items":[{"productId":"1","quantity":0}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a negative quantity", `{"items":[{"productId":"1","quantity":-1}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a quantity over the maximum", `{"items":[{"productId":"1","quantity":11}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a fractional quantity", `{"items":[{"productId":"1","quantity":1.5}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a quantity written 2.0", `{"items":[{"productId":"1","quantity":2.0}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a quantity written 2e0", `{"items":[{"productId":"1","quantity":2e0}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a quantity as a string", `{"items":[{"productId":"1","quantity":"2"}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a huge quantity", `{"items":[{"productId":"1","quantity":99999999999999999999}]}`, ErrInvalidQuantity, []string{"items[0].quantity"}},
		{"a coupon that is no string", `{"couponCode":42,"items":[{"productId":"1","quantity":1}]}`, apperr.ErrInvalidField, []string{"couponCode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeOrder([]byte(tt.body), testLimits)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want.Code)
			}
			ae, _ := apperr.As(err)
			var fields []string
			for _, d := range ae.Details {
				fields = append(fields, d.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("detail fields = %q, want %q", fields, tt.fields)
			}
		})
	}
}

func TestDecodeOrderListsEveryFailingField(t *testing.T) {
	body := `{"couponCode":7,"items":[` +
		`{"productId":"1","quantity":1},` +
		`{"quantity":2},` +
		`{"productId":"3","quantity":0},` +
		`{"productId":4,"quantity":"x"}]}`
	_, err := decodeOrder([]byte(body), limits{maxItems: 10, maxQuantity: 5})
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	t.Run("the code is the first failure's", func(t *testing.T) {
		if ae.Code != "INVALID_FIELD" {
			t.Errorf("code = %s, want INVALID_FIELD", ae.Code)
		}
	})
	t.Run("every failing field has a detail, in order", func(t *testing.T) {
		want := []apperr.Detail{
			{Field: "couponCode", Message: "must be a string", Value: "7"},
			{Field: "items[1].productId", Message: "is required"},
			{Field: "items[2].quantity", Message: "must be a whole number from 1 to 5", Value: "0"},
			{Field: "items[3].productId", Message: "must be a string", Value: "4"},
			{Field: "items[3].quantity", Message: "must be a whole number from 1 to 5", Value: `"x"`},
		}
		if !reflect.DeepEqual(ae.Details, want) {
			t.Errorf("details =\n%+v\nwant\n%+v", ae.Details, want)
		}
	})
	t.Run("too many items says how many", func(t *testing.T) {
		_, err := decodeOrder([]byte(`{"items":[1,2,3,4]}`), testLimits)
		ae, _ := apperr.As(err)
		if len(ae.Details) != 1 || ae.Details[0].Message != "at most 3 items per order, got 4" {
			t.Errorf("details = %+v", ae.Details)
		}
	})
	t.Run("echoed values are clipped", func(t *testing.T) {
		long := strings.Repeat("1", 200)
		_, err := decodeOrder([]byte(`{"items":[{"productId":"1","quantity":`+long+`}]}`), testLimits)
		ae, _ := apperr.As(err)
		if len(ae.Details) != 1 || ae.Details[0].Value != long[:64]+"…" {
			t.Errorf("details = %+v", ae.Details)
		}
	})
}

// BenchmarkDecodeOrder decodes the load test's order body.
func BenchmarkDecodeOrder(b *testing.B) {
	body := []byte(`{"couponCode":"HAPPYHRS","items":[{"productId":"3","quantity":2},{"productId":"7","quantity":1}]}`)
	lim := limits{maxItems: 100, maxQuantity: 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeOrder(body, lim); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeStringIsJSONUnmarshal(t *testing.T) {
	raws := []string{`""`, `"7"`, `" 7 "`, `"HAPPYHRS"`, `"a\"b"`, `"a\\b"`, `"\u0037"`, `"é"`, `"\u00e9"`,
		"\"\xff\"", `"tab	in"`, `7`, `true`, `{"a":1}`, `["7"]`, `"`, `"7`, `'7'`}
	for _, raw := range raws {
		got, gotErr := decodeString(json.RawMessage(raw))
		var want string
		wantErr := json.Unmarshal([]byte(raw), &want)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("decodeString(%s) = %q, %v; json.Unmarshal: %q, %v", raw, got, gotErr, want, wantErr)
		}
	}
}
