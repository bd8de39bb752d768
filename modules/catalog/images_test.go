package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"minikart/platform/apperr"
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

// testMaxImage is catalog.max_image_bytes's default.
const testMaxImage = 2 << 20

// Picture headers as net/http's sniffing knows them; the rest of a
// picture does not change its type.
var (
	pngHeader  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	jpegHeader = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"
	webpHeader = "RIFF\x24\x00\x00\x00WEBPVP8 "
	gifHeader  = "GIF89a\x01\x00\x01\x00"
)

func TestPictureOf(t *testing.T) {
	for _, tt := range []struct{ body, ct, ext string }{
		{pngHeader, "image/png", "png"},
		{jpegHeader, "image/jpeg", "jpg"},
		{webpHeader, "image/webp", "webp"},
		{gifHeader, "image/gif", "gif"},
	} {
		t.Run(tt.ct, func(t *testing.T) {
			f, err := pictureOf([]byte(tt.body), testMaxImage)
			if err != nil || f.contentType != tt.ct || !storedImageName.MatchString(f.name) || !strings.HasSuffix(f.name, "."+tt.ext) {
				t.Errorf("pictureOf = %+v, %v; want a %s named <sha256>.%s", f, err, tt.ct, tt.ext)
			}
		})
	}
	t.Run("named by its content", func(t *testing.T) {
		a, _ := pictureOf([]byte(pngHeader+"a"), testMaxImage)
		b, _ := pictureOf([]byte(pngHeader+"a"), testMaxImage)
		c, _ := pictureOf([]byte(pngHeader+"b"), testMaxImage)
		if a.name != b.name || a.name == c.name {
			t.Errorf("names %s %s %s: want equal for equal bytes only", a.name, b.name, c.name)
		}
	})
	for _, tt := range []struct {
		name string
		body string
		want *apperr.Error
		msg  string
	}{
		{"empty", "", ErrImageMissing, "holds no picture"},
		{"text, whatever it was sent as", "<svg xmlns='http://www.w3.org/2000/svg'/>", ErrUnsupportedImageType, "the picture is text/plain, want a JPEG, PNG, WebP or GIF image"},
		{"a script", "<html><script>alert(1)</script>", ErrUnsupportedImageType, "the picture is text/html"},
		{"one byte over the limit", pngHeader + strings.Repeat("x", 1024-len(pngHeader)+1), apperr.ErrBodyTooLarge, "larger than 1024 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pictureOf([]byte(tt.body), 1024)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("pictureOf: %v, want %s saying %q", err, tt.want.Code, tt.msg)
			}
		})
	}
}
