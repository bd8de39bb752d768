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

// problems collects every field that failed; the response carries the code
// of the first and a detail for each.
type problems struct {
	first   *apperr.Error
	details []apperr.Detail
}

func (p *problems) add(e *apperr.Error, field, msg, value string) {
	if p.first == nil {
		p.first = e
	}
	p.details = append(p.details, apperr.Detail{Field: field, Message: msg, Value: apperr.Clip(value)})
}

func (p *problems) err() error {
	if p.first == nil {
		return nil
	}
	return p.first.WithDetails(p.details...)
}

// decodeOrder parses and validates an order body. It accepts any content
// type as long as the body is a JSON object, and ignores unknown fields.
func decodeOrder(body []byte, lim limits) (PlaceOrder, error) {
	var req PlaceOrder
	if len(bytes.TrimSpace(body)) == 0 {
		return req, ErrInvalidJSON.Withf("request body is empty")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return req, ErrInvalidJSON
	}
	var p problems

	if raw, ok := top["couponCode"]; ok && !isNull(raw) {
		code, err := decodeString(raw)
		if err != nil {
			p.add(ErrInvalidField, "couponCode", "must be a string", string(raw))
		}
		req.CouponCode = strings.TrimSpace(code)
	}

	raw, ok := top["items"]
	switch {
	case !ok || isNull(raw):
		p.add(ErrMissingField, "items", "is required", "")
		return req, p.err()
	case raw[0] != '[':
		p.add(ErrInvalidField, "items", "must be an array", string(raw))
		return req, p.err()
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return req, ErrInvalidJSON
	}
	switch {
	case len(items) == 0:
		p.add(ErrMissingField, "items", "must contain at least one item", "")
		return req, p.err()
	case len(items) > lim.maxItems:
		p.add(ErrTooManyItems, "items", fmt.Sprintf("at most %d items per order, got %d", lim.maxItems, len(items)), "")
		return req, p.err()
	}
	req.Items = make([]Item, len(items))
	for i, rawItem := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rawItem, &obj); err != nil || obj == nil {
			p.add(ErrInvalidField, itemField(i, ""), "must be an object", string(rawItem))
			continue
		}
		req.Items[i].ProductID = decodeProductID(obj["productId"], i, &p)
		req.Items[i].Quantity = decodeQuantity(obj["quantity"], i, lim.maxQuantity, &p)
	}
	return req, p.err()
}

// itemField names a field of item i in an error detail; it is built only
// for a detail, not for every item that is fine.
func itemField(i int, name string) string {
	return "items[" + strconv.Itoa(i) + "]" + name
}

func decodeProductID(raw json.RawMessage, i int, p *problems) string {
	if raw == nil || isNull(raw) {
		p.add(ErrMissingField, itemField(i, ".productId"), "is required", "")
		return ""
	}
	id, err := decodeString(raw)
	if err != nil {
		p.add(ErrInvalidField, itemField(i, ".productId"), "must be a string", string(raw))
		return ""
	}
	if id = strings.TrimSpace(id); id == "" {
		p.add(ErrMissingField, itemField(i, ".productId"), "must not be empty", "")
	}
	return id
}

func decodeQuantity(raw json.RawMessage, i int, max int, p *problems) int {
	if raw == nil || isNull(raw) {
		p.add(ErrMissingField, itemField(i, ".quantity"), "is required", "")
		return 0
	}
	// Only a plain integer literal counts: 2.0, 2e0 and "2" are rejected
	// rather than guessed at.
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 1 || n > int64(max) {
		p.add(ErrInvalidQuantity, itemField(i, ".quantity"), fmt.Sprintf("must be a whole number from 1 to %d", max), string(raw))
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
