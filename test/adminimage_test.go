package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/test/internal/harness"
)

// testPNG draws a small picture of one colour, a real PNG.
func testPNG(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAdminProductImage uploads a picture through the admin API, then reads
// it as a shop's page would: the menu links it, and the link serves it,
// cacheable, from the database.
func TestAdminProductImage(t *testing.T) {
	logs := &harness.SyncBuffer{}
	a, err := tryStartAppWith(t, map[string]any{"log.level": "info", "catalog.max_image_bytes": 4096},
		fx.Decorate(func(l zerolog.Logger) zerolog.Logger { return l.Output(logs) }))
	if err != nil {
		t.Fatal(err)
	}
	pic := testPNG(t, color.RGBA{R: 200, G: 40, B: 90, A: 255})
	sum := sha256.Sum256(pic)
	name := hex.EncodeToString(sum[:]) + ".png"
	upload := func(id string, body []byte, headers ...string) response {
		t.Helper()
		return a.do(http.MethodPut, "/api/admin/products/"+id+"/image", string(body), append([]string{"Content-Type", "image/png"}, headers...)...)
	}

	t.Run("upload, then the menu links the picture in every size", func(t *testing.T) {
		res := upload("3", pic, adminHeaders...)
		if res.status != http.StatusOK {
			t.Fatalf("status %d %s", res.status, res.body)
		}
		type product struct {
			Name  string            `json:"name"`
			Image map[string]string `json:"image"`
		}
		var p, shop product
		res.json(t, &p)
		a.do(http.MethodGet, "/api/product/3", "").json(t, &shop)
		for _, size := range []string{"thumbnail", "mobile", "tablet", "desktop"} {
			if u := shop.Image[size]; !strings.HasSuffix(u, "/api/images/"+name) || p.Image[size] != u {
				t.Errorf("%s: menu %q, upload answer %q; want both …/api/images/%s", size, u, p.Image[size], name)
			}
		}
		if shop.Name != p.Name || shop.Name == "" {
			t.Errorf("name %q in the menu, %q in the answer", shop.Name, p.Name)
		}
	})

	t.Run("the link serves the picture, cacheable for good", func(t *testing.T) {
		var shop struct {
			Image map[string]string `json:"image"`
		}
		a.do(http.MethodGet, "/api/product/3", "").json(t, &shop)
		u, err := url.Parse(shop.Image["desktop"])
		if err != nil {
			t.Fatal(err)
		}
		res := a.do(http.MethodGet, u.Path, "")
		if res.status != http.StatusOK || !bytes.Equal(res.body, pic) {
			t.Fatalf("GET %s: status %d, %d bytes; want the %d bytes uploaded", u.Path, res.status, len(res.body), len(pic))
		}
		h := res.header
		if h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Cache-Control"), "immutable") || h.Get("ETag") == "" {
			t.Errorf("headers %v: want image/png, nosniff, an immutable Cache-Control and an ETag", h)
		}
		if again := a.do(http.MethodGet, u.Path, "", "If-None-Match", h.Get("ETag")); again.status != http.StatusNotModified {
			t.Errorf("revalidation: status %d, want 304", again.status)
		}
	})

	t.Run("refused", func(t *testing.T) {
		tooBig := append(testPNG(t, color.White)[:16:16], bytes.Repeat([]byte{0}, 5000)...)
		for _, tt := range []struct {
			name    string
			id      string
			body    []byte
			headers []string
			status  int
			code    string
		}{
			{"text sent as a PNG", "3", []byte("<svg onload='alert(1)'/>"), adminHeaders, 415, "UNSUPPORTED_IMAGE_TYPE"},
			{"a picture over catalog.max_image_bytes", "3", tooBig, adminHeaders, 413, "BODY_TOO_LARGE"},
			{"an unknown product", "999", pic, adminHeaders, 404, "PRODUCT_NOT_FOUND"},
			{"a bad id", "x", pic, adminHeaders, 400, "INVALID_PARAMETER"},
			{"a shop key", "3", pic, []string{"api_key", "apitest"}, 403, "FORBIDDEN"},
			{"no key", "3", pic, nil, 401, "UNAUTHORIZED"},
		} {
			res := upload(tt.id, tt.body, tt.headers...)
			if res.status != tt.status || res.errorCode(t).Error != tt.code {
				t.Errorf("%s: status %d %s, want %d %s", tt.name, res.status, res.body, tt.status, tt.code)
			}
		}
		empty := a.do(http.MethodPut, "/api/admin/products/3/image", "", append([]string{"Content-Type", "image/png"}, adminHeaders...)...)
		if empty.status != 400 || empty.errorCode(t).Error != "IMAGE_MISSING" {
			t.Errorf("an empty body: status %d %s, want 400 IMAGE_MISSING", empty.status, empty.body)
		}
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM product_images`); err != nil || n != 1 {
			t.Errorf("%d pictures stored (%v), want only the one accepted", n, err)
		}
	})

	t.Run("an audit line and a count per upload", func(t *testing.T) {
		if res := upload("3", pic, adminHeaders...); res.status != http.StatusOK {
			t.Fatalf("the same picture again: status %d", res.status)
		}
		var got []string
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["audit"] != nil {
				got = append(got, fmt.Sprintf("%v %v %v %v", m["audit"], m["admin_key_id"], m["product_id"], m["outcome"]))
			}
		}
		if want := []string{"product.image ops 3 replaced", "product.image ops 3 unchanged"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("audit lines %q, want %q", got, want)
		}
		metrics := string(a.do(http.MethodGet, "/metrics", "").body)
		for _, want := range []string{
			`admin_api_changes_total{action="image",outcome="replaced",resource="product"} 1`,
			`admin_api_changes_total{action="image",outcome="unchanged",resource="product"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
