package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"minikart/platform/apperr"
	"minikart/platform/httpserver/servertest"
	"minikart/platform/paging"
)

// fakeStore serves rows from memory and records the pages asked for and
// the reads of the whole catalogue. A test that changes rows moves version,
// as the products triggers do.
type fakeStore struct {
	// mu guards rows and version against a background refresher.
	mu      sync.Mutex
	rows    []productRow
	err     error
	pages   []listQuery
	reads   int
	version int64
	images  map[string]imageRow
}

func (f *fakeStore) Version(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, f.err
}

func (f *fakeStore) OnSale(context.Context) ([]productRow, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, 0, f.err
	}
	return slices.Clone(f.rows), f.version, nil
}

func (f *fakeStore) Image(_ context.Context, name string) (imageRow, error) {
	if r, ok := f.images[name]; ok {
		return r, f.err
	}
	return imageRow{}, ErrImageNotFound
}

func (f *fakeStore) List(_ context.Context, q listQuery) ([]productRow, int, error) {
	f.pages = append(f.pages, q)
	if f.err != nil {
		return nil, 0, f.err
	}
	rows := []productRow{}
	skip := q.Offset
	for _, r := range f.rows {
		switch {
		case r.ID <= q.AfterID:
		case skip > 0:
			skip--
		case len(rows) < q.Limit:
			rows = append(rows, r)
		}
	}
	return rows, len(f.rows), nil
}

func (f *fakeStore) Get(_ context.Context, id int64) (productRow, error) {
	if f.err != nil {
		return productRow{}, f.err
	}
	for _, r := range f.rows {
		if r.ID == id {
			return r, nil
		}
	}
	return productRow{}, ErrProductNotFound
}

func (f *fakeStore) ByIDs(_ context.Context, ids []int64) ([]productRow, error) {
	var out []productRow
	for _, id := range ids {
		if r, err := f.Get(context.Background(), id); err == nil {
			out = append(out, r)
		}
	}
	return out, f.err
}

var waffle = productRow{ID: 1, Name: "Waffle with Berries", Category: "Waffle", PriceCents: 650, ImageSlug: "waffle"}

func newFakeStore() *fakeStore {
	return &fakeStore{rows: []productRow{
		waffle,
		{ID: 2, Name: "Vanilla Bean Crème Brûlée", Category: "Crème Brûlée", PriceCents: 700, ImageSlug: "creme-brulee"},
		{ID: 3, Name: "Macaron Mix of Five", Category: "Macaron", PriceCents: 800, ImageSlug: "macaron"},
	}}
}

// newTestEngine serves the catalog routes through the real engine and
// error middleware, over st.
func newTestEngine(t *testing.T, st productStore, c Config) *gin.Engine {
	t.Helper()
	return servertest.Engine(t, zerolog.Nop(), newHandler(NewService(st, c)))
}

var testConfig = Config{ImageBaseURL: "https://img.example/public", MaxLimit: 2}

type errorBody struct {
	Error   string          `json:"error"`
	Details []apperr.Detail `json:"details"`
}

func get(t *testing.T, e *gin.Engine, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestListPages(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		page    listQuery
		wantIDs []string
	}{
		{"max_limit is the default page size", "/api/product", listQuery{Page: paging.Page{Limit: 2}}, []string{"1", "2"}},
		{"a trailing slash", "/api/product/", listQuery{Page: paging.Page{Limit: 2}}, []string{"1", "2"}},
		{"limit and offset", "/api/product?limit=1&offset=1", listQuery{Page: paging.Page{Limit: 1, Offset: 1}}, []string{"2"}},
		{"limit equal to max_limit", "/api/product?limit=2&offset=2", listQuery{Page: paging.Page{Limit: 2, Offset: 2}}, []string{"3"}},
		{"an offset past the end", "/api/product?offset=10", listQuery{Page: paging.Page{Limit: 2, Offset: 10}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			rec := get(t, newTestEngine(t, st, testConfig), tt.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, body %s", rec.Code, rec.Body.String())
			}
			if got := rec.Header().Get("X-Total-Count"); got != "3" {
				t.Errorf("X-Total-Count = %q, want 3", got)
			}
			var products []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &products); err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, p := range products {
				ids = append(ids, p.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
			if len(st.pages) != 1 || st.pages[0] != tt.page {
				t.Errorf("store asked for %+v, want %+v", st.pages, tt.page)
			}
		})
	}
}

func TestListRejectsBadParameters(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		fields []string
	}{
		{"limit 0", "limit=0", []string{"limit"}},
		{"a negative limit", "limit=-1", []string{"limit"}},
		{"a limit over max_limit", "limit=3", []string{"limit"}},
		{"a limit that is no number", "limit=ten", []string{"limit"}},
		{"an empty limit", "limit=", []string{"limit"}},
		{"a negative offset", "offset=-1", []string{"offset"}},
		{"an offset that is no number", "offset=1.5", []string{"offset"}},
		{"both at once", "limit=x&offset=y", []string{"limit", "offset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			rec := get(t, newTestEngine(t, st, testConfig), "/api/product?"+tt.query)
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusBadRequest || body.Error != "INVALID_PARAMETER" {
				t.Errorf("got %d %s, want 400 INVALID_PARAMETER", rec.Code, body.Error)
			}
			var fields []string
			for _, d := range body.Details {
				fields = append(fields, d.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("detail fields = %v, want %v", fields, tt.fields)
			}
			if len(st.pages) != 0 {
				t.Errorf("store was asked for %+v", st.pages)
			}
		})
	}
	t.Run("the limit detail names the range and echoes the value", func(t *testing.T) {
		rec := get(t, newTestEngine(t, newFakeStore(), testConfig), "/api/product?limit=3")
		var body errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		want := apperr.Detail{Field: "limit", Message: "must be an integer from 1 to 2", Value: "3"}
		if len(body.Details) != 1 || body.Details[0] != want {
			t.Errorf("details = %+v, want %+v", body.Details, want)
		}
	})
}

func TestGet(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		status int
		code   string
	}{
		{"a product", "/api/product/1", http.StatusOK, ""},
		{"a trailing slash", "/api/product/1/", http.StatusOK, ""},
		{"an unknown id", "/api/product/99", http.StatusNotFound, "PRODUCT_NOT_FOUND"},
		{"an id that is no number", "/api/product/abc", http.StatusBadRequest, "INVALID_PARAMETER"},
		{"an id over int64", "/api/product/9223372036854775808", http.StatusBadRequest, "INVALID_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, newTestEngine(t, newFakeStore(), testConfig), tt.path)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error != tt.code {
				t.Errorf("code = %q, want %q", body.Error, tt.code)
			}
		})
	}
}

func TestGetRendersTheContractShape(t *testing.T) {
	rec := get(t, newTestEngine(t, newFakeStore(), testConfig), "/api/product/1")
	want := `{"id":"1","name":"Waffle with Berries","price":6.5,"category":"Waffle","image":{` +
		`"thumbnail":"https://img.example/public/images/image-waffle-thumbnail.jpg",` +
		`"mobile":"https://img.example/public/images/image-waffle-mobile.jpg",` +
		`"tablet":"https://img.example/public/images/image-waffle-tablet.jpg",` +
		`"desktop":"https://img.example/public/images/image-waffle-desktop.jpg"}}`
	if rec.Body.String() != want {
		t.Errorf("body = %s\nwant   %s", rec.Body.String(), want)
	}
}

func TestStoreFailureIsInternal(t *testing.T) {
	for _, path := range []string{"/api/product", "/api/product/1"} {
		t.Run(path, func(t *testing.T) {
			st := newFakeStore()
			st.err = errors.New("list products: connection pool closed")
			rec := get(t, newTestEngine(t, st, testConfig), path)
			if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "pool") {
				t.Errorf("got %d %s", rec.Code, rec.Body.String())
			}
			if rec.Header().Get("X-Total-Count") != "" {
				t.Error("X-Total-Count sent with an error")
			}
		})
	}
}

func TestImageURLs(t *testing.T) {
	tests := []struct {
		base string
		want string
	}{
		{"https://img.example/public", "https://img.example/public/images/image-waffle-desktop.jpg"},
		{"https://img.example/public/", "https://img.example/public/images/image-waffle-desktop.jpg"},
		{"https://img.example/public//", "https://img.example/public/images/image-waffle-desktop.jpg"},
		{"http://img.example", "http://img.example/images/image-waffle-desktop.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			s := NewService(newFakeStore(), Config{ImageBaseURL: tt.base, MaxLimit: 10})
			p, err := s.Get(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if p.Image.Desktop != tt.want {
				t.Errorf("desktop = %q, want %q", p.Image.Desktop, tt.want)
			}
		})
	}
}

func TestProductsByIDs(t *testing.T) {
	s := NewService(newFakeStore(), testConfig)
	got, err := s.ProductsByIDs(context.Background(), []int64{3, 99, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Name != "Waffle with Berries" || got[3].Price != 800 {
		t.Errorf("got %+v", got)
	}
	if _, ok := got[99]; ok {
		t.Error("an unknown id is in the map")
	}
}

func TestParseProductID(t *testing.T) {
	tests := []struct {
		raw  string
		want int64
	}{
		{"1", 1},
		{"0", 0},
		{"-5", -5},
		{"9223372036854775807", 9223372036854775807},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got, err := ParseProductID(tt.raw); err != nil || got != tt.want {
				t.Errorf("ParseProductID(%q) = %d, %v; want %d", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestParseProductIDRejects(t *testing.T) {
	long := strings.Repeat("9", 100)
	tests := []struct {
		raw   string
		value string
	}{
		{"", ""},
		{"abc", "abc"},
		{"1.0", "1.0"},
		{" 1", " 1"},
		{"0x10", "0x10"},
		{"9223372036854775808", "9223372036854775808"},
		{long, long[:64] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := ParseProductID(tt.raw)
			ae, ok := apperr.As(err)
			if !errors.Is(err, apperr.ErrInvalidParameter) || !ok || len(ae.Details) != 1 {
				t.Fatalf("err = %#v", err)
			}
			if d := ae.Details[0]; d.Field != "productId" || d.Value != tt.value {
				t.Errorf("detail = %+v, want field productId, value %q", d, tt.value)
			}
		})
	}
}

// TestListRevalidates: the whole-list answer carries a tag and may be kept
// (no-cache); asked again with that tag it is 304 without a body, with
// another tag or after the menu changed it is the full answer.
func TestListRevalidates(t *testing.T) {
	st := newFakeStore()
	e := newTestEngine(t, st, Config{ImageBaseURL: "https://img.example/public", MaxLimit: 1000, CacheTTL: time.Hour})
	first := get(t, e, "/api/product")
	etag := first.Header().Get("ETag")
	if first.Code != http.StatusOK || !strings.HasPrefix(etag, `"`) || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("first answer: %d, ETag %q, Cache-Control %q", first.Code, etag, first.Header().Get("Cache-Control"))
	}
	conditional := func(inm string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/product", nil)
		req.Header.Set("If-None-Match", inm)
		e.ServeHTTP(rec, req)
		return rec
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		rec := conditional(inm)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag || rec.Header().Get("X-Total-Count") != "3" {
			t.Errorf("If-None-Match %s: %d with %d bytes, ETag %q, X-Total-Count %q; want 304, no body, the tag and the total",
				inm, rec.Code, rec.Body.Len(), rec.Header().Get("ETag"), rec.Header().Get("X-Total-Count"))
		}
	}
	if rec := conditional(`"other"`); rec.Code != http.StatusOK || rec.Body.String() != first.Body.String() {
		t.Errorf("another tag: %d, want 200 with the list", rec.Code)
	}
	st.rows[1].PriceCents = 750
	st.version++
	e2 := newTestEngine(t, st, Config{ImageBaseURL: "https://img.example/public", MaxLimit: 1000, CacheTTL: time.Hour})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/product", nil)
	req.Header.Set("If-None-Match", etag)
	e2.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag || !strings.Contains(rec.Body.String(), "7.5") {
		t.Errorf("after a price change: %d, ETag %q (was %q); want 200 with the new price and a new tag", rec.Code, rec.Header().Get("ETag"), etag)
	}
	// Pages rendered per request are not tagged, and stay unkept.
	if rec := get(t, e, "/api/product?limit=1&offset=1"); rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a later page: ETag %q, Cache-Control %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
	}
}

// BenchmarkListWhole measures the catalogue's answer to a client that asks
// for no page, served from the cache: what it costs beyond the middleware
// (compare BenchmarkMiddlewareChain in platform/httpserver).
func BenchmarkListWhole(b *testing.B) {
	st := newFakeStore()
	e := servertest.Engine(b, zerolog.Nop(), newHandler(NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Hour})))
	req := httptest.NewRequest(http.MethodGet, "/api/product", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// discardWriter keeps nothing, so the benchmark counts the server's
// allocations and not a recorder's.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
