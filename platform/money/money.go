// Package money holds amounts as integer cents, so sums and discounts are
// exact, and renders them as JSON numbers with at most two decimals.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cents is an amount of money in cents.
type Cents int64

// MarshalJSON renders c as a JSON number with at most two decimals: 650 is
// 6.5, 700 is 7, 1234 is 12.34.
func (c Cents) MarshalJSON() ([]byte, error) { return c.Append(nil), nil }

// UnmarshalJSON reads a JSON number with at most two decimals.
func (c *Cents) UnmarshalJSON(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return fmt.Errorf("money %s: %w", b, err)
	}
	*c = v
	return nil
}

// String renders c like MarshalJSON.
func (c Cents) String() string { return string(c.Append(nil)) }

// Append appends c as MarshalJSON renders it to b.
func (c Cents) Append(b []byte) []byte {
	neg := c < 0
	if neg {
		c = -c
	}
	whole, frac := int64(c)/100, int64(c)%100
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, whole, 10)
	switch {
	case frac == 0:
	case frac%10 == 0:
		b = append(b, '.', byte('0'+frac/10))
	default:
		b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return b
}

// Parse reads a non-negative decimal amount with at most two decimals, such
// as "5", "5.5" or "5.50".
func Parse(s string) (Cents, error) {
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, errors.New("want an amount like 5.50")
	}
	w, err := strconv.ParseUint(whole, 10, 40)
	if err != nil {
		return 0, errors.New("want an amount like 5.50")
	}
	var f uint64
	if hasFrac {
		if f, err = strconv.ParseUint(frac, 10, 8); err != nil {
			return 0, errors.New("want an amount like 5.50")
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return Cents(w*100 + f), nil
}

// Percent returns bp basis points (1 % = 100) of c, rounded half up.
func (c Cents) Percent(bp int64) Cents {
	return Cents((int64(c)*bp + 5000) / 10000)
}
