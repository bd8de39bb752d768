package ordering

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
	"minikart/platform/auth"
)

// FuzzDecodeOrder checks that any body either decodes into an order that
// respects every limit, or fails with a client error; never a panic.
func FuzzDecodeOrder(f *testing.F) {
	for _, seed := range []string{
		`{"items":[{"productId":"1","quantity":2}]}`,
		`{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2},{"productId":"3","quantity":1}]}`,
		`{"couponCode":null,"items":[{"productId":" 7 ","quantity":1,"extra":[1,2]}],"cart":{}}`,
		`{"items":[]}`, `{"items":null}`, `{}`, `[]`, `null`, ``, `{"items":[1]}`,
		`{"items":[{"productId":1,"quantity":"1"}]}`, `{"items":[{"productId":"1","quantity":1e2}]}`,
		`{"items":[{"productId":"1","quantity":-1}]}`, `{"items":[{"productId":"1","quantity":99999999999999999999}]}`,
		`{"items":[{"productId":"1","quantity":1}]} trailing`, "{\"items\":[{\"productId\":\"\xff\",\"quantity\":1}]}",
		`{"couponCode":7,"items":[{"productId":"1","quantity":1}]}`,
	} {
		f.Add([]byte(seed))
	}
	lim := limits{maxItems: 10, maxQuantity: 100}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeOrder(body, lim)
		if err != nil {
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != apperr.Invalid {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(req.Items) == 0 || len(req.Items) > lim.maxItems {
			t.Fatalf("accepted %d items", len(req.Items))
		}
		for _, it := range req.Items {
			if it.ProductID == "" || it.Quantity < 1 || it.Quantity > lim.maxQuantity {
				t.Fatalf("accepted item %+v", it)
			}
		}
		// What was accepted must decode the same way once re-encoded.
		again, err := json.Marshal(map[string]any{"couponCode": req.CouponCode, "items": req.Items})
		if err != nil {
			t.Fatal(err)
		}
		req2, err := decodeOrder(again, lim)
		if err != nil || len(req2.Items) != len(req.Items) {
			t.Fatalf("re-encoded %s: %v", again, err)
		}
		for i := range req.Items {
			// encoding/json replaces invalid UTF-8, so compare valid ids only.
			if utf8.ValidString(req.Items[i].ProductID) && req2.Items[i] != req.Items[i] {
				t.Fatalf("item %d: %+v then %+v", i, req.Items[i], req2.Items[i])
			}
		}
	})
}

// FuzzParseOrderID checks that only canonical-length UUIDs are accepted.
func FuzzParseOrderID(f *testing.F) {
	for _, seed := range []string{"0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61", "", "x", "0b9ac1d81f4e4a539d0e3f1c2a7b5e61", "{0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61}", "urn:uuid:0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseOrderID(raw)
		if err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Code != "INVALID_PARAMETER" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(raw) != 36 || id.String() != toLower(raw) {
			t.Fatalf("accepted %q as %s", raw, id)
		}
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzIdempotencyKey checks the header rule: 1 to 255 visible ASCII
// characters are accepted as they are, anything else is a 400.
func FuzzIdempotencyKey(f *testing.F) {
	for _, seed := range []string{"k", "0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61", "with space", "tab\tkey", "clé", ""} {
		f.Add(seed)
	}
	gin.SetMode(gin.TestMode)
	f.Fuzz(func(t *testing.T, key string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodPost, "/api/order", nil)
		c.Request.Header[IdempotencyHeader] = []string{key}
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), auth.Principal{ID: "p"}))
		idem, err := idempotencyFrom(c)
		visible := len(key) >= 1 && len(key) <= 255
		for i := 0; visible && i < len(key); i++ {
			visible = key[i] >= '!' && key[i] <= '~'
		}
		switch {
		case visible && (err != nil || idem.Key != key || idem.Scope != "key:p"):
			t.Fatalf("rejected or altered visible key %q: %+v %v", key, idem, err)
		case !visible && err == nil:
			t.Fatalf("accepted %q", key)
		}
	})
}

// FuzzDecodeOrderWalksAsEncodingJSON checks the one-pass walk of decodeOrder
// against json.Unmarshal into map[string]json.RawMessage, member by member:
// the same order or the same error, with the same details, for any body.
func FuzzDecodeOrderWalksAsEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{"items":[{"productId":"1","quantity":2}]}`,
		` { "items" : [ { "quantity" : 2 , "productId" : "1" } ] , "couponCode" : " HAPPYHRS " } `,
		`{"items":[{"productId":"1","quantity":2}],"items":null}`,
		`{"items":null,"items":[{"productId":"1","quantity":2}]}`,
		`{"\u0069tems":[{"product\u0049d":"1","quantity":2}],"coupon\"Code":"x"}`,
		`{"Items":[{"productId":"1","quantity":2}]}`,
		`{"x":"]}\"{[","items":[{"productId":"]\"}","quantity":2,"y":[[{}],{"z":"\\"}]}]}`,
		`{"items":[{"productId":"1","quantity":2e0},{"productId":"1","quantity":-0},{"productId":"1","quantity":1.0}]}`,
		`{"items":[{"productId":"1","quantity":1},]}`, `{"items":[null,true,"x",7,[],{}]}`,
		`{"items":"[]"}`, `{"items":{}}`, `{"items":[]}`, `{"couponCode":["x"],"items":[{"productId":"1","quantity":1}]}`,
		"{\"items\":[{\"productId\":\"\xff\\u00e9\",\"quantity\":1}],\"\xff\":1}", `[]`, `null`, `"x"`, ` `, `{`,
	} {
		f.Add([]byte(seed))
	}
	lim := limits{maxItems: 3, maxQuantity: 100}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodeOrder(body, lim)
		want, wantErr := decodeOrderViaMaps(body, lim)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q:\nwalk %+v %v\nmaps %+v %v", body, got, gotErr, want, wantErr)
		}
		if ge, ok := apperr.As(gotErr); ok {
			we, _ := apperr.As(wantErr)
			if ge.Code != we.Code || !reflect.DeepEqual(ge.Details, we.Details) {
				t.Fatalf("%q:\nwalk %s %+v\nmaps %s %+v", body, ge.Code, ge.Details, we.Code, we.Details)
			}
		}
	})
}

// decodeOrderViaMaps is decodeOrder written with json.Unmarshal at every
// level, the definition the walk must match.
func decodeOrderViaMaps(body []byte, lim limits) (PlaceOrder, error) {
	var req PlaceOrder
	if len(bytes.TrimSpace(body)) == 0 {
		return req, apperr.ErrInvalidJSON.Withf("request body is empty")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return req, apperr.ErrInvalidJSON
	}
	var p apperr.Problems
	if raw, ok := top["couponCode"]; ok && !isNull(raw) {
		code, err := decodeString(raw)
		if err != nil {
			p.Add(apperr.ErrInvalidField, "couponCode", "must be a string", string(raw))
		}
		req.CouponCode = strings.TrimSpace(code)
	}
	raw, ok := top["items"]
	switch {
	case !ok || isNull(raw):
		p.Add(apperr.ErrMissingField, "items", "is required", "")
		return req, p.Err()
	case raw[0] != '[':
		p.Add(apperr.ErrInvalidField, "items", "must be an array", string(raw))
		return req, p.Err()
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return req, apperr.ErrInvalidJSON
	}
	switch {
	case len(items) == 0:
		p.Add(apperr.ErrMissingField, "items", "must contain at least one item", "")
		return req, p.Err()
	case len(items) > lim.maxItems:
		p.Add(ErrTooManyItems, "items", fmt.Sprintf("at most %d items per order, got %d", lim.maxItems, len(items)), "")
		return req, p.Err()
	}
	req.Items = make([]Item, len(items))
	for i, rawItem := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rawItem, &obj); err != nil || obj == nil {
			p.Add(apperr.ErrInvalidField, itemField(i, ""), "must be an object", string(rawItem))
			continue
		}
		req.Items[i].ProductID = decodeProductID(obj["productId"], i, &p)
		req.Items[i].Quantity = decodeQuantity(obj["quantity"], i, lim.maxQuantity, &p)
	}
	return req, p.Err()
}
