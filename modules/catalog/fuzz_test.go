package catalog

import (
	"strconv"
	"testing"

	"minikart/platform/apperr"
)

// FuzzParseProductID checks that exactly the decimal int64s are accepted.
func FuzzParseProductID(f *testing.F) {
	for _, seed := range []string{"1", "9", "0", "-1", "01", "+1", "1.5", "abc", "", " 1", "9223372036854775807", "9223372036854775808", "1e3", "0x10"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseProductID(raw)
		want, wantErr := strconv.ParseInt(raw, 10, 64)
		if (err != nil) != (wantErr != nil) || (err == nil && id != want) {
			t.Fatalf("ParseProductID(%q) = %d, %v", raw, id, err)
		}
		if ae, ok := apperr.As(err); err != nil && (!ok || ae.Code != "INVALID_PARAMETER") {
			t.Fatalf("error %v", err)
		}
	})
}
