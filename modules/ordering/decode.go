package ordering

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

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
		var code string
		if err := json.Unmarshal(raw, &code); err != nil {
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
		field := fmt.Sprintf("items[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rawItem, &obj); err != nil || obj == nil {
			p.add(ErrInvalidField, field, "must be an object", string(rawItem))
			continue
		}
		req.Items[i].ProductID = decodeProductID(obj["productId"], field+".productId", &p)
		req.Items[i].Quantity = decodeQuantity(obj["quantity"], field+".quantity", lim.maxQuantity, &p)
	}
	return req, p.err()
}

func decodeProductID(raw json.RawMessage, field string, p *problems) string {
	if raw == nil || isNull(raw) {
		p.add(ErrMissingField, field, "is required", "")
		return ""
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		p.add(ErrInvalidField, field, "must be a string", string(raw))
		return ""
	}
	if id = strings.TrimSpace(id); id == "" {
		p.add(ErrMissingField, field, "must not be empty", "")
	}
	return id
}

func decodeQuantity(raw json.RawMessage, field string, max int, p *problems) int {
	if raw == nil || isNull(raw) {
		p.add(ErrMissingField, field, "is required", "")
		return 0
	}
	// Only a plain integer literal counts: 2.0, 2e0 and "2" are rejected
	// rather than guessed at.
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 1 || n > int64(max) {
		p.add(ErrInvalidQuantity, field, fmt.Sprintf("must be a whole number from 1 to %d", max), string(raw))
		return 0
	}
	return int(n)
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }
