package log

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	long := strings.Repeat("a", 65536)
	// 255 ASCII bytes then a 3-byte rune straddling the bound.
	straddle := strings.Repeat("a", MaxValueBytes-1) + "€" + strings.Repeat("b", 100)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"short", "/api/product/1", "/api/product/1"},
		{"at the bound", strings.Repeat("x", MaxValueBytes), strings.Repeat("x", MaxValueBytes)},
		{"one over", strings.Repeat("x", MaxValueBytes+1), strings.Repeat("x", MaxValueBytes) + "…(cut, 257 bytes)"},
		{"64 KiB", long, long[:MaxValueBytes] + "…(cut, 65536 bytes)"},
		{"rune boundary", straddle, strings.Repeat("a", MaxValueBytes-1) + "…(cut, 358 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in)
			if got != tt.want {
				t.Errorf("Clip = %.80q… (%d bytes), want %.80q… (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clip cut a character: %q", got)
			}
		})
	}
}

func TestClipErr(t *testing.T) {
	if got := ClipErr(nil); got != "" {
		t.Errorf("ClipErr(nil) = %q", got)
	}
	got := ClipErr(errors.New("redeem " + strings.Repeat("Z", 10000)))
	if len(got) > MaxValueBytes+32 || !strings.HasSuffix(got, "…(cut, 10007 bytes)") {
		t.Errorf("ClipErr = %d bytes, ends %q", len(got), got[len(got)-24:])
	}
}
