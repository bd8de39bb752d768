package catalog

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"

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

// FuzzParsePage checks that any query gives either a page within bounds or
// an INVALID_PARAMETER error.
func FuzzParsePage(f *testing.F) {
	for _, seed := range []string{"", "limit=10", "limit=0", "limit=1001", "offset=-1", "limit=1&limit=2", "limit=%00", "offset=1e3", "limit=abc&offset=2", "limit=+5"} {
		f.Add(seed)
	}
	h := &handler{s: &Service{maxLimit: 1000}}
	gin.SetMode(gin.TestMode)
	f.Fuzz(func(t *testing.T, query string) {
		if _, err := url.ParseQuery(query); err != nil {
			return // the HTTP server rejects such a query before any handler
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/product", nil)
		c.Request.URL.RawQuery = query
		p, err := h.parsePage(c)
		if err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Code != "INVALID_PARAMETER" || len(ae.Details) == 0 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > 1000 || p.Offset < 0 {
			t.Fatalf("query %q gave page %+v", query, p)
		}
	})
}
