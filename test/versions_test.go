package test

import (
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform/apidoc"
	"minikart/platform/config"
	"minikart/platform/httpserver"
	"minikart/test/internal/apitest"
	"minikart/test/internal/harness"
)

// versionCase is one operation of the API, asked under /api and under
// /api/v1; both answers must be the same.
type versionCase struct {
	op      string // the operation under /api, as apidoc.Operations keys it
	method  string
	path    string // under /api
	v1Path  string // under /api/v1, when the request creates what it names (another id); else path
	body    string
	headers []string
	// vary are the JSON members that differ between two calls by nature
	// (a new order's id); they are left out of the comparison.
	vary []string
}

// sameAnswerHeaders are the headers that must be equal under both paths.
var sameAnswerHeaders = []string{
	"Content-Type", "Cache-Control", "ETag", "X-Total-Count", "Link", "Idempotency-Replayed",
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age", "X-Content-Type-Options",
}

// TestAPIVersionOneAnswersAsAPI sends every operation the document lists
// under /api to /api/v1 too, through the client that validates each
// exchange against the served document, and compares the answers: status,
// headers and body (a Link names the path it was asked at).
func TestAPIVersionOneAnswersAsAPI(t *testing.T) {
	const origin = "https://shop.example"
	a := startApp(t, map[string]any{"server.cors.allowed_origins": []string{origin}})
	placed := a.order(`{"items":[{"productId":"1","quantity":2}]}`)
	var order struct {
		ID string `json:"id"`
	}
	placed.json(t, &order)
	now := time.Now().UTC()
	report := "/admin/reports/totals?from=" + now.AddDate(0, 0, -7).Format(time.DateOnly) + "&to=" + now.AddDate(0, 0, 1).Format(time.DateOnly)
	shop := []string{"api_key", "apitest"}
	preflight := func(method string) []string {
		return []string{"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", "api_key"}
	}
	const tart = `{"name":"Lemon Tart","category":"Tart","price":5.10,"image":"waffle"}`
	cases := []versionCase{
		{op: "GET /api/product", method: http.MethodGet, path: "/product?limit=2&category=waffle"},
		{op: "GET /api/product/{productId}", method: http.MethodGet, path: "/product/3"},
		{op: "GET /api/images/{file}", method: http.MethodGet, path: "/images/image-waffle-thumbnail.jpg"},
		{op: "OPTIONS /api/product", method: http.MethodOptions, path: "/product", headers: preflight("GET")},
		{op: "OPTIONS /api/product/{productId}", method: http.MethodOptions, path: "/product/1", headers: preflight("GET")},
		{op: "POST /api/order", method: http.MethodPost, path: "/order", body: `{"items":[{"productId":"2","quantity":1}],"couponCode":""}`,
			headers: shop, vary: []string{"id"}},
		{op: "GET /api/order/{orderId}", method: http.MethodGet, path: "/order/" + order.ID, headers: shop},
		{op: "OPTIONS /api/order", method: http.MethodOptions, path: "/order", headers: preflight("POST")},
		{op: "OPTIONS /api/order/{orderId}", method: http.MethodOptions, path: "/order/" + order.ID, headers: preflight("GET")},
		{op: "GET /api/admin/products", method: http.MethodGet, path: "/admin/products", headers: adminHeaders},
		{op: "PUT /api/admin/products/{productId}", method: http.MethodPut, path: "/admin/products/70", v1Path: "/admin/products/71",
			body: tart, headers: adminHeaders, vary: []string{"id"}},
		{op: "PUT /api/admin/products/{productId}/image", method: http.MethodPut, path: "/admin/products/5/image",
			body: string(testPNG(t, color.Black)), headers: append([]string{"Content-Type", "image/png"}, adminHeaders...)},
		{op: "DELETE /api/admin/products/{productId}", method: http.MethodDelete, path: "/admin/products/70", v1Path: "/admin/products/71",
			headers: adminHeaders},
		{op: "GET /api/admin/orders", method: http.MethodGet, path: "/admin/orders?limit=1", headers: adminHeaders},
		{op: "GET /api/admin/orders/{orderId}", method: http.MethodGet, path: "/admin/orders/" + order.ID, headers: adminHeaders},
		{op: "GET /api/admin/reports/totals", method: http.MethodGet, path: report, headers: adminHeaders},
	}
	a.order(`{"items":[{"productId":"4","quantity":1}]}`) // a second order, so the orders list has a next page

	t.Run("every operation under /api has a case", func(t *testing.T) {
		doc, err := apitest.AppDocument(t).OpenAPI()
		if err != nil {
			t.Fatal(err)
		}
		covered := map[string]bool{}
		for _, c := range cases {
			covered[c.op] = true
		}
		for op := range apidoc.Operations(doc) {
			if _, path, _ := strings.Cut(op, " "); strings.HasPrefix(path, httpserver.APIPath+"/") && !covered[op] {
				t.Errorf("%s has no case here: add one", op)
			}
		}
		for op := range covered {
			if apidoc.Operations(doc)[op] == nil {
				t.Errorf("case %s names no documented operation", op)
			}
		}
	})
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			v1Path := c.v1Path
			if v1Path == "" {
				v1Path = c.path
			}
			api := a.do(c.method, httpserver.APIPath+c.path, c.body, c.headers...)
			v1 := a.do(c.method, httpserver.VersionPath(1)+v1Path, c.body, c.headers...)
			if api.status >= 400 {
				t.Fatalf("under /api: status %d %s", api.status, api.body)
			}
			if v1.status != api.status {
				t.Fatalf("status %d under /api/v1, %d under /api: %s", v1.status, api.status, v1.body)
			}
			for _, h := range sameAnswerHeaders {
				want := api.header.Get(h)
				got := strings.Replace(v1.header.Get(h), httpserver.VersionPath(1)+"/", httpserver.APIPath+"/", 1)
				if got != want {
					t.Errorf("%s: %q under /api/v1, %q under /api", h, v1.header.Get(h), want)
				}
			}
			if !sameBody(t, api.body, v1.body, c.vary) {
				t.Errorf("bodies differ:\n/api:    %s\n/api/v1: %s", api.body, v1.body)
			}
		})
	}
}

// sameBody compares two answers, as JSON less the vary members where both
// are JSON objects, else byte for byte.
func sameBody(t *testing.T, a, b []byte, vary []string) bool {
	t.Helper()
	var ja, jb map[string]any
	if json.Unmarshal(a, &ja) != nil || json.Unmarshal(b, &jb) != nil {
		return string(a) == string(b)
	}
	for _, k := range vary {
		if ja[k] == nil || jb[k] == nil {
			t.Errorf("member %q missing", k)
		}
		delete(ja, k)
		delete(jb, k)
	}
	return reflect.DeepEqual(ja, jb)
}

// clashingRoutes registers a route whose parameter is named otherwise than
// catalog's at the same place.
type clashingRoutes struct{}

func (clashingRoutes) Register(r gin.IRouter) {
	r.GET("/product/:id/reviews", func(c *gin.Context) { c.Status(http.StatusNoContent) })
}

// TestAClashingRouteFailsStartWithBothNamed: gin would panic; start-up
// fails instead, naming the new route, catalog's and their packages.
func TestAClashingRouteFailsStartWithBothNamed(t *testing.T) {
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"database.url": harness.UnusedDatabaseURL, "promo.files": sampleCoupons(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	app := fx.New(fx.NopLogger, modules.App(src, fx.Module("reviews", fx.Provide(httpserver.AsRoutes(func() clashingRoutes { return clashingRoutes{} })))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = app.Start(ctx)
	for _, want := range []string{
		"route GET /api/product/:id/reviews (minikart/test) clashes with route GET /api/product/:productId (minikart/modules/catalog)",
		"must give it one name",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Start: %v, want an error saying %q", err, want)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start timed out: %v", err)
	}
}
