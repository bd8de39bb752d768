package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"minikart/platform/apperr"
)

func TestCheckJSONAcceptsWellFormedBodies(t *testing.T) {
	for _, body := range []string{
		``,
		`{}`,
		`[]`,
		`null`,
		` {"items":[{"productId":"1","quantity":2},{"productId":"1","quantity":2}]} `,
		// The same key in different objects, and as a value.
		`{"a":{"a":"a"},"b":[{"a":1},{"a":2}],"c":"a"}`,
		`{"n":1e999,"m":-0.5e-7,"t":true,"f":false,"z":null}`,
		`{"items":[[],{},[{}],{"k":[]}],"x":{"y":{"z":{}}}}`,
		`{` + manyKeys(40) + `}`,
	} {
		if err := checkJSON([]byte(body)); err != nil {
			t.Errorf("%.60s: %v", body, err)
		}
	}
}

func TestCheckJSONRefusesDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"a top-level key", `{"couponCode":"A","items":[],"couponCode":"B"}`, "couponCode"},
		{"items twice", `{"items":[{"productId":"1","quantity":1}],"items":null}`, "items"},
		{"in an item", `{"items":[{"productId":"1","quantity":1},{"productId":"2","quantity":1,"quantity":-1}]}`, "items[1].quantity"},
		{"deep", `{"a":{"b":[[0,{"c":{"d":1,"d":2}}]]}}`, "a.b[0][1].c.d"},
		{"spelt with an escape", `{"items":[],"\u0069tems":[]}`, "items"},
		{"after the map takes over", `{` + manyKeys(40) + `,"k7":0}`, "k7"},
		{"late in a long object", `{` + manyKeys(40) + `,"k39":0}`, "k39"},
		{"the empty key", `{"":1,"":2}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkJSON([]byte(tt.body))
			ae, ok := apperr.As(err)
			if !ok || !errors.Is(err, apperr.ErrInvalidJSON) {
				t.Fatalf("err = %v, want INVALID_JSON", err)
			}
			if len(ae.Details) != 1 || ae.Details[0].Field != tt.field {
				t.Errorf("details = %+v, want the field %q", ae.Details, tt.field)
			}
			if !strings.Contains(ae.Message, "more than once") {
				t.Errorf("message %q does not say the key came twice", ae.Message)
			}
		})
	}
}

func TestCheckJSONRefusesMalformedBodies(t *testing.T) {
	for _, body := range []string{
		`{`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `{} {}`, `{} x`, `1 2`, `[1,]`, `{'a':1}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	} {
		err := checkJSON([]byte(body))
		if !errors.Is(err, apperr.ErrInvalidJSON) {
			t.Errorf("%.40s: %v, want INVALID_JSON", body, err)
		}
	}
}

// manyKeys lists n distinct keys k0..k(n-1), each with a value.
func manyKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return strings.Join(parts, ",")
}

// BenchmarkCheckJSON walks the load test's order body (what ReadJSON adds
// to an order beyond reading it; compare BenchmarkDecodeOrder in ordering).
func BenchmarkCheckJSON(b *testing.B) {
	body := []byte(`{"couponCode":"HAPPYHRS","items":[{"productId":"3","quantity":2},{"productId":"7","quantity":1}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCheckJSONAgreesWithEncodingJSON: a body checkJSON passes is one
// encoding/json finds valid (or empty), and a valid body it refuses has a
// key twice, which encoding/json's own decoding into a map then shows.
func FuzzCheckJSONAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{``, ` `, `{}`, `[]`, `1 2`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `[{"x":1},{"x":1,"y":[{"x":1,"x":2}]}]`,
		`{"a":"\xff"}`, `{"a":1e999}`, `{"items":[{"productId":"1","quantity":1}],"couponCode":"X"}`, `{"a"`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkJSON(body)
		empty := len(strings.TrimSpace(string(body))) == 0
		valid := json.Valid(body)
		switch {
		case err == nil && !valid && !empty:
			t.Fatalf("%q: passed, but encoding/json finds it invalid", body)
		case err != nil && !errors.Is(err, apperr.ErrInvalidJSON):
			t.Fatalf("%q: %v, want INVALID_JSON", body, err)
		case err != nil && valid:
			ae, _ := apperr.As(err)
			if len(ae.Details) != 1 || !strings.Contains(ae.Message, "more than once") {
				t.Fatalf("%q: valid JSON refused with %v", body, err)
			}
			if !hasDuplicateKey(body) {
				t.Fatalf("%q: refused for a key twice, but no object has one", body)
			}
		case err == nil && valid && hasDuplicateKey(body):
			t.Fatalf("%q: passed with a key twice", body)
		}
	})
}

// hasDuplicateKey walks body with encoding/json's tokenizer, which decodes
// keys, and reports whether an object names a key twice.
func hasDuplicateKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []map[string]bool // nil for an array
	wantKey := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	expectKey := true
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, map[string]bool{})
			expectKey = true
			continue
		case json.Delim('['):
			stack = append(stack, nil)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			expectKey = wantKey()
			continue
		}
		if wantKey() && expectKey {
			k := tok.(string)
			if stack[len(stack)-1][k] {
				return true
			}
			stack[len(stack)-1][k] = true
			expectKey = false
			continue
		}
		expectKey = wantKey()
	}
}
