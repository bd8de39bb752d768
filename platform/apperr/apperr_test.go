package apperr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"minikart/platform/apperr"
)

var errCouponExpired = apperr.New(apperr.Unprocessable, "COUPON_EXPIRED", "coupon has expired")

func TestIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"the declared error itself", errCouponExpired, errCouponExpired, true},
		{"a copy made by WithDetails", errCouponExpired.WithDetails(apperr.Detail{Field: "code"}), errCouponExpired, true},
		{"a copy made by Withf", errCouponExpired.Withf("coupon %s expired", "X"), errCouponExpired, true},
		{"a wrapped copy", fmt.Errorf("redeem: %w", errCouponExpired.WithRetryAfter(3)), errCouponExpired, true},
		{"another code", apperr.ErrNotFound, errCouponExpired, false},
		{"same kind, other code", apperr.New(apperr.Unprocessable, "COUPON_USED", "used"), errCouponExpired, false},
		{"a plain error target", errCouponExpired, errors.New("COUPON_EXPIRED: coupon has expired"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestCopiesLeaveTheDeclaredErrorAlone(t *testing.T) {
	details := []apperr.Detail{{Field: "a", Message: "bad"}}
	withDetails := errCouponExpired.WithDetails(details...)
	details[0].Field = "changed"
	withMessage := errCouponExpired.Withf("expired on %s", "2026-01-01")
	withRetry := errCouponExpired.WithRetryAfter(7)

	t.Run("WithDetails copies the details", func(t *testing.T) {
		if len(withDetails.Details) != 1 || withDetails.Details[0].Field != "a" {
			t.Errorf("details = %+v, want one detail for field a", withDetails.Details)
		}
	})
	t.Run("Withf sets the message", func(t *testing.T) {
		if withMessage.Message != "expired on 2026-01-01" || withMessage.Code != "COUPON_EXPIRED" {
			t.Errorf("got %q %q", withMessage.Code, withMessage.Message)
		}
	})
	t.Run("WithRetryAfter sets the seconds", func(t *testing.T) {
		if withRetry.RetryAfter != 7 {
			t.Errorf("RetryAfter = %d, want 7", withRetry.RetryAfter)
		}
	})
	t.Run("the original is unchanged", func(t *testing.T) {
		if errCouponExpired.Details != nil || errCouponExpired.Message != "coupon has expired" || errCouponExpired.RetryAfter != 0 {
			t.Errorf("declared error changed: %+v", errCouponExpired)
		}
	})
	t.Run("Error shows code and message", func(t *testing.T) {
		if got := withMessage.Error(); got != "COUPON_EXPIRED: expired on 2026-01-01" {
			t.Errorf("Error() = %q", got)
		}
	})
}

func TestAs(t *testing.T) {
	t.Run("finds the error through wrapping", func(t *testing.T) {
		ae, ok := apperr.As(fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", errCouponExpired)))
		if !ok || ae.Code != "COUPON_EXPIRED" {
			t.Errorf("As = %v, %t", ae, ok)
		}
	})
	t.Run("reports a plain error", func(t *testing.T) {
		if ae, ok := apperr.As(errors.New("boom")); ok || ae != nil {
			t.Errorf("As = %v, %t; want nil, false", ae, ok)
		}
	})
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"short ascii", "abc", "abc"},
		{"exactly 64 bytes", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"65 bytes", strings.Repeat("a", 65), strings.Repeat("a", 64) + "…"},
		{"two-byte runes cut on a boundary", strings.Repeat("é", 40), strings.Repeat("é", 32) + "…"},
		{"four-byte runes cut on a boundary", "a" + strings.Repeat("😀", 20), "a" + strings.Repeat("😀", 15) + "…"},
		{"64 bytes of multi-byte runes", strings.Repeat("é", 32), strings.Repeat("é", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apperr.Clip(tt.in)
			if got != tt.want {
				t.Errorf("Clip = %q, want %q", got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clip returned invalid UTF-8 %q", got)
			}
		})
	}
}
