package ordering

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"minikart/platform/apperr"
)

// limits bound one order request.
type limits struct {
	maxItems    int
	maxQuantity int
}

// decodeOrder parses and validates an order body. It accepts any content
// type as long as the body is a JSON object, and ignores unknown fields.
// The body is checked once with json.Valid and then walked in one pass
// (jsonPick, jsonElements), taking each value's bytes as they are: what
// json.Unmarshal into map[string]json.RawMessage would give, key by key,
// without building the maps.
func decodeOrder(body []byte, lim limits) (PlaceOrder, error) {
	var req PlaceOrder
	if len(bytes.TrimSpace(body)) == 0 {
		return req, apperr.ErrInvalidJSON.Withf("request body is empty")
	}
	if !json.Valid(body) {
		return req, apperr.ErrInvalidJSON
	}
	coupon, items, ok := jsonPick(body, "couponCode", "items")
	if !ok {
		return req, apperr.ErrInvalidJSON
	}
	var p apperr.Problems

	if coupon != nil && !isNull(coupon) {
		code, err := decodeString(coupon)
		if err != nil {
			p.Add(apperr.ErrInvalidField, "couponCode", "must be a string", string(coupon))
		}
		req.CouponCode = strings.TrimSpace(code)
	}

	switch {
	case items == nil || isNull(items):
		p.Add(apperr.ErrMissingField, "items", "is required", "")
		return req, p.Err()
	case items[0] != '[':
		p.Add(apperr.ErrInvalidField, "items", "must be an array", string(items))
		return req, p.Err()
	}
	n := jsonElements(items, func([]byte) {})
	switch {
	case n == 0:
		p.Add(apperr.ErrMissingField, "items", "must contain at least one item", "")
		return req, p.Err()
	case n > lim.maxItems:
		p.Add(ErrTooManyItems, "items", fmt.Sprintf("at most %d items per order, got %d", lim.maxItems, n), "")
		return req, p.Err()
	}
	req.Items = make([]Item, 0, n)
	jsonElements(items, func(rawItem []byte) {
		i := len(req.Items)
		req.Items = append(req.Items, Item{})
		productID, quantity, ok := jsonPick(rawItem, "productId", "quantity")
		if !ok {
			p.Add(apperr.ErrInvalidField, itemField(i, ""), "must be an object", string(rawItem))
			return
		}
		req.Items[i].ProductID = decodeProductID(productID, i, &p)
		req.Items[i].Quantity = decodeQuantity(quantity, i, lim.maxQuantity, &p)
	})
	return req, p.Err()
}

// itemField names a field of item i in an error detail; it is built only
// for a detail, not for every item that is fine.
func itemField(i int, name string) string {
	return "items[" + strconv.Itoa(i) + "]" + name
}

func decodeProductID(raw json.RawMessage, i int, p *apperr.Problems) string {
	if raw == nil || isNull(raw) {
		p.Add(apperr.ErrMissingField, itemField(i, ".productId"), "is required", "")
		return ""
	}
	id, err := decodeString(raw)
	if err != nil {
		p.Add(apperr.ErrInvalidField, itemField(i, ".productId"), "must be a string", string(raw))
		return ""
	}
	if id = strings.TrimSpace(id); id == "" {
		p.Add(apperr.ErrMissingField, itemField(i, ".productId"), "must not be empty", "")
	}
	return id
}

func decodeQuantity(raw json.RawMessage, i int, max int, p *apperr.Problems) int {
	if raw == nil || isNull(raw) {
		p.Add(apperr.ErrMissingField, itemField(i, ".quantity"), "is required", "")
		return 0
	}
	// Only a plain integer literal counts: 2.0, 2e0 and "2" are rejected
	// rather than guessed at.
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 1 || n > int64(max) {
		p.Add(ErrInvalidQuantity, itemField(i, ".quantity"), fmt.Sprintf("must be a whole number from 1 to %d", max), string(raw))
		return 0
	}
	return int(n)
}

// decodeString decodes a JSON string value as json.Unmarshal does. A
// string with nothing to unescape or replace (no backslash, no control
// character, valid UTF-8: every string a shop sends) is its bytes between
// the quotes, taken as they are; any other goes through json.Unmarshal.
func decodeString(raw json.RawMessage) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		inner := raw[1 : len(raw)-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
				plain = false
				break
			}
		}
		if plain {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// The walk below runs only over bytes json.Valid accepted, so it needs no
// error paths of its own: a value ends where the grammar says it does.

// jsonPick returns the values of the members named a and b of the JSON
// object in raw (nil for one that is absent; the last of a repeated name),
// and whether raw is an object at all.
func jsonPick(raw []byte, a, b string) (va, vb []byte, ok bool) {
	ok = jsonMembers(raw, func(key, value []byte) {
		switch string(key) {
		case a:
			va = value
		case b:
			vb = value
		}
	})
	return va, vb, ok
}

// jsonMembers calls f with each member of the JSON object in raw, key and
// value as their bytes (the key without its quotes, decoded only when it
// holds an escape), and reports whether raw is an object at all.
func jsonMembers(raw []byte, f func(key, value []byte)) bool {
	w := jsonWalker{b: raw}
	if w.space(); w.b[w.i] != '{' {
		return false
	}
	w.i++
	if w.space(); w.b[w.i] == '}' {
		return true
	}
	for {
		w.space()
		key := w.value()
		w.space()
		w.i++ // ':'
		w.space()
		value := w.value()
		key = key[1 : len(key)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, _ := decodeString(json.RawMessage(`"` + string(key) + `"`))
			key = []byte(s)
		}
		f(key, value)
		if w.space(); w.b[w.i] == '}' {
			return true
		}
		w.i++ // ','
	}
}

// jsonElements calls f with each element of the JSON array in raw and
// returns how many there are.
func jsonElements(raw []byte, f func(value []byte)) int {
	w := jsonWalker{b: raw}
	w.space()
	w.i++ // '['
	if w.space(); w.b[w.i] == ']' {
		return 0
	}
	n := 0
	for {
		w.space()
		f(w.value())
		n++
		if w.space(); w.b[w.i] == ']' {
			return n
		}
		w.i++ // ','
	}
}

// jsonWalker steps through valid JSON.
type jsonWalker struct {
	b []byte
	i int
}

func (w *jsonWalker) space() {
	for w.i < len(w.b) && w.isSpace() {
		w.i++
	}
}

func (w *jsonWalker) isSpace() bool {
	c := w.b[w.i]
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// value returns the value that starts at the walker and steps past it.
func (w *jsonWalker) value() []byte {
	start := w.i
	switch w.b[w.i] {
	case '"':
		w.str()
	case '{', '[':
		for depth := 0; ; {
			switch w.b[w.i] {
			case '"':
				w.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			w.i++
			if depth == 0 {
				break
			}
		}
	default: // a number, true, false or null
		for w.i < len(w.b) && w.b[w.i] != ',' && w.b[w.i] != '}' && w.b[w.i] != ']' && !w.isSpace() {
			w.i++
		}
	}
	return w.b[start:w.i]
}

// str steps past the string that starts at the walker.
func (w *jsonWalker) str() {
	for w.i++; w.b[w.i] != '"'; w.i++ {
		if w.b[w.i] == '\\' {
			w.i++
		}
	}
	w.i++
}
