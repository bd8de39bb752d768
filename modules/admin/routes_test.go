package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"minikart/modules/catalog"
	"minikart/platform/auth"
	"minikart/platform/httpserver/servertest"
)

// fakeMenu answers SetImage with a fixed outcome and records what it got.
type fakeMenu struct {
	menuEditor
	limit   int64
	got     []byte
	outcome catalog.Outcome
	err     error
}

func (f *fakeMenu) MaxImageBytes() int64 { return f.limit }

func (f *fakeMenu) SetImage(_ context.Context, id int64, body []byte) (catalog.Product, catalog.Outcome, error) {
	f.got = body
	return catalog.Product{ID: "7", Name: "Waffle"}, f.outcome, f.err
}

func TestPutImage(t *testing.T) {
	a, err := auth.New(auth.Config{APIKeys: []string{"demo:apitest"}, AdminKeys: []string{"ops:admintest"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	mt, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	menu := &fakeMenu{limit: 16, outcome: catalog.Replaced}
	e := servertest.Engine(t, zerolog.Nop(), newHandler(menu, nil, a, Config{}, zerolog.New(&logs), mt))
	put := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPut, "/api/admin/products/7/image", strings.NewReader(body))
		req.Header.Set("api_key", "admintest")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	rec := put("\x89PNG\r\n\x1a\nabc")
	if rec.Code != http.StatusOK || string(menu.got) != "\x89PNG\r\n\x1a\nabc" {
		t.Fatalf("status %d %s, bytes passed on %q", rec.Code, rec.Body, menu.got)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line["audit"] != "product.image" || line["admin_key_id"] != "ops" || line["outcome"] != "replaced" {
		t.Errorf("audit line %s (%v)", logs.String(), err)
	}
	if n := testutil.ToFloat64(mt.changes.WithLabelValues("product", "image", "replaced")); n != 1 {
		t.Errorf("counted %v changes, want 1", n)
	}

	// Past catalog.max_image_bytes the body is refused unread: the menu
	// never sees it.
	menu.got = nil
	if rec := put(strings.Repeat("x", 17)); rec.Code != http.StatusRequestEntityTooLarge || menu.got != nil {
		t.Errorf("17 bytes over a 16-byte limit: status %d, menu got %q", rec.Code, menu.got)
	}
	menu.err = catalog.ErrUnsupportedImageType
	if rec := put("GIF? no"); rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "UNSUPPORTED_IMAGE_TYPE") {
		t.Errorf("the menu's refusal: status %d %s, want 415 UNSUPPORTED_IMAGE_TYPE", rec.Code, rec.Body)
	}
}
