package paging_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
	"minikart/platform/paging"
)

func ctxFor(target string) (*gin.Context, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, target, nil)
	return c, w
}

// fields returns the detail fields of an INVALID_PARAMETER error.
func fields(t *testing.T, err error) []string {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || !errors.Is(err, apperr.ErrInvalidParameter) {
		t.Fatalf("error %v, want INVALID_PARAMETER", err)
	}
	var out []string
	for _, d := range ae.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		query string
		want  paging.Page
	}{
		{"", paging.Page{Limit: 50}},
		{"?limit=1", paging.Page{Limit: 1}},
		{"?limit=50&offset=7", paging.Page{Limit: 50, Offset: 7}},
		{"?offset=0", paging.Page{Limit: 50}},
	}
	for _, tt := range tests {
		c, _ := ctxFor("/x" + tt.query)
		got, err := paging.Parse(c, 50)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.query, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"?limit=0", []string{"limit"}},
		{"?limit=51", []string{"limit"}},
		{"?limit=x", []string{"limit"}},
		{"?limit=1&limit=2", []string{"limit"}},
		{"?offset=-1", []string{"offset"}},
		{"?offset=1&offset=1", []string{"offset"}},
		{"?limit=0&offset=-1", []string{"limit", "offset"}},
	}
	for _, tt := range tests {
		c, _ := ctxFor("/x" + tt.query)
		_, err := paging.Parse(c, 50)
		if got := fields(t, err); len(got) != len(tt.want) || got[0] != tt.want[0] {
			t.Errorf("Parse(%q) names %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestParseCursor(t *testing.T) {
	c, _ := ctxFor("/x")
	if got, err := paging.ParseCursor(c, 20, 100); err != nil || got != (paging.Cursor{Limit: 20}) {
		t.Errorf("no parameters: %+v, %v; want the default limit from the start", got, err)
	}
	c, _ = ctxFor("/x?limit=100&after=abc")
	if got, err := paging.ParseCursor(c, 20, 100); err != nil || got != (paging.Cursor{Limit: 100, After: "abc"}) {
		t.Errorf("limit and after: %+v, %v", got, err)
	}
	for _, q := range []string{"?after=", "?after=a&after=b", "?limit=101", "?after=" + strings.Repeat("a", 600)} {
		c, _ = ctxFor("/x" + q)
		if _, err := paging.ParseCursor(c, 20, 100); err == nil {
			t.Errorf("ParseCursor(%.40q) accepted", q)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	type pos struct {
		At string `json:"t"`
		ID string `json:"i"`
	}
	in := pos{"2026-01-02T03:04:05.123456Z", "0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61"}
	var out pos
	if err := paging.Decode(paging.Encode(in), &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	for _, bad := range []string{"!!", "bm90IGpzb24", "W10"} { // not base64, not JSON, the wrong JSON
		if err := paging.Decode(bad, &out); len(fields(t, err)) != 1 {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

func TestHeaders(t *testing.T) {
	c, w := ctxFor("/api/admin/orders?coupon=HAPPYHRS&after=old&limit=2")
	paging.SetTotal(c, 12)
	paging.SetNext(c, "new")
	if got := w.Header().Get(paging.TotalCountHeader); got != "12" {
		t.Errorf("X-Total-Count = %q", got)
	}
	want := `</api/admin/orders?after=new&coupon=HAPPYHRS&limit=2>; rel="next"`
	if got := w.Header().Get(paging.LinkHeader); got != want {
		t.Errorf("Link = %q, want %q", got, want)
	}
	c, w = ctxFor("/api/product?limit=2&offset=4&q=waff")
	paging.SetNext(c, "next")
	if got, want := w.Header().Get(paging.LinkHeader), `</api/product?after=next&limit=2&q=waff>; rel="next"`; got != want {
		t.Errorf("Link of an offset page = %q, want %q (the cursor replaces the offset)", got, want)
	}
}

// FuzzParse checks that any query gives either a page within bounds or
// an INVALID_PARAMETER error.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "limit=10", "limit=0", "limit=1001", "offset=-1", "limit=1&limit=2", "limit=%00", "offset=1e3", "limit=abc&offset=2", "limit=+5"} {
		f.Add(seed)
	}
	gin.SetMode(gin.TestMode)
	f.Fuzz(func(t *testing.T, query string) {
		if _, err := url.ParseQuery(query); err != nil {
			return // the HTTP server rejects such a query before any handler
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/product", nil)
		c.Request.URL.RawQuery = query
		p, err := paging.Parse(c, 1000)
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
