package catalog

import (
	"context"
	"encoding/json"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"minikart/platform/httpserver"
)

// demoSlugs are the image slugs of the nine seeded products.
var demoSlugs = []string{"waffle", "creme-brulee", "macaron", "tiramisu", "baklava", "meringue", "cake", "brownie", "panna-cotta"}

func TestEveryDemoProductHasEveryImageSize(t *testing.T) {
	total := 0
	for _, slug := range demoSlugs {
		if !hasBuiltinImages(slug) {
			t.Errorf("%s lacks a size", slug)
		}
		for _, size := range ImageSizes {
			a := builtinImages()[builtinImageName(slug, size)]
			if _, err := jpeg.Decode(strings.NewReader(string(a.body))); err != nil {
				t.Errorf("%s %s: %v", slug, size, err)
			}
			total += len(a.body)
		}
	}
	if total > 900<<10 {
		t.Errorf("built-in images take %d bytes, over the budget", total)
	}
	if hasBuiltinImages("no-such-slug") {
		t.Error("an unknown slug has built-in images")
	}
}

func TestImageRoute(t *testing.T) {
	e := newTestEngine(t, newFakeStore(), testConfig)
	rec := get(t, e, "/api/images/image-waffle-thumbnail.jpg")
	h := rec.Header()
	if rec.Code != http.StatusOK || h.Get("Content-Type") != "image/jpeg" || rec.Body.Len() == 0 {
		t.Fatalf("got %d %q, %d bytes", rec.Code, h.Get("Content-Type"), rec.Body.Len())
	}
	if !strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") || h.Get("ETag") == "" ||
		h.Get("Cross-Origin-Resource-Policy") != "cross-origin" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers %v", h)
	}

	req := httptest.NewRequest(http.MethodGet, "/api/images/image-waffle-thumbnail.jpg", nil)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	again := httptest.NewRecorder()
	e.ServeHTTP(again, req)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match: got %d with %d bytes, want 304 and none", again.Code, again.Body.Len())
	}

	for _, path := range []string{"/api/images/image-nothing-thumbnail.jpg", "/api/images/image-waffle-thumbnail.JPG", "/api/images/images"} {
		rec := get(t, e, path)
		var body errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusNotFound || body.Error != "IMAGE_NOT_FOUND" {
			t.Errorf("%s: got %d %s", path, rec.Code, rec.Body.String())
		}
	}
}

func TestSelfServedImageURLsFollowTheRequest(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		st := newFakeStore()
		e := newTestEngine(t, st, Config{MaxLimit: 10, CacheTTL: ttl})
		for _, host := range []string{"shop.example", "127.0.0.1:8080"} {
			for _, path := range []string{"/api/product", "/api/product?offset=1", "/api/product/1"} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Host = host
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				want := "http://" + host + "/api/images/image-"
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), want) < 4 || strings.Contains(rec.Body.String(), "mk-origin") {
					t.Errorf("ttl %s, host %s, %s: %s", ttl, host, path, rec.Body.String())
				}
			}
		}
	}
}

func TestProductsByIDsLinkToTheRequestsOrigin(t *testing.T) {
	s := NewService(newFakeStore(), Config{MaxLimit: 10, CacheTTL: time.Minute})
	ctx := httpserver.WithOrigin(context.Background(), "https://shop.example")
	got, err := s.ProductsByIDs(ctx, []int64{1})
	if err != nil || got[1].Image.Desktop != "https://shop.example/api/images/image-waffle-desktop.jpg" {
		t.Errorf("got %+v, %v", got[1].Image, err)
	}
}
