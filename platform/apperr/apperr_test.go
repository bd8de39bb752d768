package apperr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"minikart/platform/apperr"
)

var errTokenExpired = apperr.New(apperr.Unprocessable, "TOKEN_EXPIRED", "token has expired")

func TestIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"the declared error itself", errTokenExpired, errTokenExpired, true},
		{"a copy made by WithDetails", errTokenExpired.WithDetails(apperr.Detail{Field: "code"}), errTokenExpired, true},
		{"a copy made by Withf", errTokenExpired.Withf("token %s expired", "X"), errTokenExpired, true},
		{"a wrapped copy", fmt.Errorf("spend: %w", errTokenExpired.WithRetryAfter(3)), errTokenExpired, true},
		{"another code", apperr.ErrNotFound, errTokenExpired, false},
		{"same kind, other code", apperr.New(apperr.Unprocessable, "TOKEN_USED", "used"), errTokenExpired, false},
		{"a plain error target", errTokenExpired, errors.New("TOKEN_EXPIRED: token has expired"), false},
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
	withDetails := errTokenExpired.WithDetails(details...)
	details[0].Field = "changed"
	withMessage := errTokenExpired.Withf("expired on %s", "2026-01-01")
	withRetry := errTokenExpired.WithRetryAfter(7)

	t.Run("WithDetails copies the details", func(t *testing.T) {
		if len(withDetails.Details) != 1 || withDetails.Details[0].Field != "a" {
			t.Errorf("details = %+v, want one detail for field a", withDetails.Details)
		}
	})
	t.Run("Withf sets the message", func(t *testing.T) {
		if withMessage.Message != "expired on 2026-01-01" || withMessage.Code != "TOKEN_EXPIRED" {
			t.Errorf("got %q %q", withMessage.Code, withMessage.Message)
		}
	})
	t.Run("WithRetryAfter sets the seconds", func(t *testing.T) {
		if withRetry.RetryAfter != 7 {
			t.Errorf("RetryAfter = %d, want 7", withRetry.RetryAfter)
		}
	})
	t.Run("the original is unchanged", func(t *testing.T) {
		if errTokenExpired.Details != nil || errTokenExpired.Message != "token has expired" || errTokenExpired.RetryAfter != 0 {
			t.Errorf("declared error changed: %+v", errTokenExpired)
		}
	})
	t.Run("Error shows code and message", func(t *testing.T) {
		if got := withMessage.Error(); got != "TOKEN_EXPIRED: expired on 2026-01-01" {
			t.Errorf("Error() = %q", got)
		}
	})
}

func TestAs(t *testing.T) {
	t.Run("finds the error through wrapping", func(t *testing.T) {
		ae, ok := apperr.As(fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", errTokenExpired)))
		if !ok || ae.Code != "TOKEN_EXPIRED" {
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
