package ordering

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace/noop"

	"minikart/modules/promo"
	"minikart/platform/auth"
	"minikart/platform/httpserver"
	"minikart/platform/httpserver/servertest"
	"minikart/platform/ratelimit"
)

// testAuth accepts the key apitest as id demo and other as id pos.
func testAuth(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Config{APIKeys: []string{"demo:apitest", "pos:other"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newTestEngine serves routes through the real engine and error middleware.
func newTestEngine(t *testing.T, routes httpserver.Routes) *gin.Engine {
	t.Helper()
	return servertest.Engine(t, zerolog.Nop(), routes)
}

func serve(e *gin.Engine, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return body.Error
}

var withKey = http.Header{"Api_key": {"apitest"}}

func TestPlaceRoute(t *testing.T) {
	const good = `{"items":[{"productId":"1","quantity":2}]}`
	tests := []struct {
		name   string
		path   string
		body   string
		header http.Header
		promo  *fakePromo
		status int
		code   string
		stored bool
	}{
		{"an order", "/api/order", good, withKey, &fakePromo{}, 200, "", true},
		{"a trailing slash", "/api/order/", good, withKey, &fakePromo{}, 200, "", true},
		{"no api key", "/api/order", good, nil, &fakePromo{}, 401, "UNAUTHORIZED", false},
		{"a wrong api key", "/api/order", good, http.Header{"Api_key": {"nope"}}, &fakePromo{}, 403, "FORBIDDEN", false},
		{"broken JSON", "/api/order", `{"items":`, withKey, &fakePromo{}, 400, "INVALID_JSON", false},
		{"a coupon code twice", "/api/order", `{"couponCode":"NOTACODE","items":[{"productId":"1","quantity":1}],"couponCode":"HAPPYHRS"}`, withKey, &fakePromo{}, 400, "INVALID_JSON", false},
		{"a quantity twice", "/api/order", `{"items":[{"productId":"1","quantity":1,"quantity":2}]}`, withKey, &fakePromo{}, 400, "INVALID_JSON", false},
		{"a bad quantity", "/api/order", `{"items":[{"productId":"1","quantity":0}]}`, withKey, &fakePromo{}, 400, "INVALID_QUANTITY", false},
		{"too many items", "/api/order", `{"items":[1,2,3,4,5,6]}`, withKey, &fakePromo{}, 400, "TOO_MANY_ITEMS", false},
		{"a body over max_body_bytes", "/api/order", `{"items":[],"pad":"` + strings.Repeat("x", 1100) + `"}`, withKey, &fakePromo{}, 413, "BODY_TOO_LARGE", false},
		{"an unknown product", "/api/order", `{"items":[{"productId":"42","quantity":1}]}`, withKey, &fakePromo{}, 422, "PRODUCT_NOT_FOUND", false},
		{"an invalid coupon", "/api/order", `{"couponCode":"NOTACODE","items":[{"productId":"1","quantity":1}]}`, withKey, &fakePromo{err: promo.ErrInvalidPromoCode}, 422, "INVALID_PROMO_CODE", false},
		{"coupons still loading", "/api/order", `{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":1}]}`, withKey, &fakePromo{err: promo.ErrPromoUnavailable}, 503, "PROMO_UNAVAILABLE", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeOrders{}
			e := newTestEngine(t, newHandler(NewService(newCatalog(), tt.promo, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider()), testAuth(t), testOrderConfig))
			rec := serve(e, http.MethodPost, tt.path, tt.body, tt.header)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			}
			if stored := len(st.created) == 1; stored != tt.stored {
				t.Errorf("stored = %t, want %t", stored, tt.stored)
			}
		})
	}
}

func TestPlaceRouteAnswersTheContractShape(t *testing.T) {
	st := &fakeOrders{}
	pr := &fakePromo{quote: promo.Quote{Code: "HAPPYHRS", Discount: 234}}
	e := newTestEngine(t, newHandler(NewService(newCatalog(), pr, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider()), testAuth(t), testOrderConfig))
	rec := serve(e, http.MethodPost, "/api/order", `{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2}]}`, withKey)
	if rec.Code != http.StatusOK || len(st.created) != 1 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body.String())
	}
	want := `{"id":"` + st.created[0].ID.String() + `","items":[{"productId":"1","quantity":2}],` +
		`"products":[{"id":"1","name":"Waffle with Berries","price":6.5,"category":"Waffle",` +
		`"image":{"thumbnail":"","mobile":"","tablet":"","desktop":""}}],"total":10.66,"discounts":2.34}`
	if rec.Body.String() != want {
		t.Errorf("body = %s\nwant   %s", rec.Body.String(), want)
	}
}

func TestGetRoute(t *testing.T) {
	id := uuid.New()
	st := &fakeOrders{byID: map[uuid.UUID]storedOrder{id: {ID: id, KeyID: "demo", Subtotal: 650, Total: 650, Lines: []storedLine{{ProductID: 1, Quantity: 1, UnitPrice: 650}}}}}
	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
		code   string
	}{
		{"an order", "/api/order/" + id.String(), withKey, 200, ""},
		{"a trailing slash", "/api/order/" + id.String() + "/", withKey, 200, ""},
		{"an unknown order", "/api/order/" + uuid.NewString(), withKey, 404, "ORDER_NOT_FOUND"},
		{"an id that is no UUID", "/api/order/42", withKey, 400, "INVALID_PARAMETER"},
		{"a UUID without dashes", "/api/order/" + strings.ReplaceAll(id.String(), "-", ""), withKey, 400, "INVALID_PARAMETER"},
		{"no api key", "/api/order/" + id.String(), nil, 401, "UNAUTHORIZED"},
		{"another key's order", "/api/order/" + id.String(), http.Header{"Api_key": {"other"}}, 404, "ORDER_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, newHandler(NewService(newCatalog(), &fakePromo{}, st, testOrderConfig, testMetrics(t), noop.NewTracerProvider()), testAuth(t), testOrderConfig))
			rec := serve(e, http.MethodGet, tt.path, "", tt.header)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			}
		})
	}
}

func TestAnonymousOrders(t *testing.T) {
	const good = `{"items":[{"productId":"1","quantity":2}]}`
	open := testOrderConfig
	open.RequireAPIKey = false
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
		code   string
		keyID  string
	}{
		{"an order without a key", http.MethodPost, "/api/order", nil, 200, "", ""},
		{"an order with a key", http.MethodPost, "/api/order/", withKey, 200, "", "demo"},
		{"an order with a wrong key", http.MethodPost, "/api/order", http.Header{"Api_key": {"nope"}}, 403, "FORBIDDEN", ""},
		{"reading without a key", http.MethodGet, "/api/order/" + uuid.NewString(), nil, 401, "UNAUTHORIZED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeOrders{}
			e := newTestEngine(t, newHandler(NewService(newCatalog(), &fakePromo{}, st, open, testMetrics(t), noop.NewTracerProvider()), testAuth(t), open))
			body := ""
			if tt.method == http.MethodPost {
				body = good
			}
			rec := serve(e, tt.method, tt.path, body, tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
				return
			}
			if len(st.created) != 1 || st.created[0].KeyID != tt.keyID {
				t.Errorf("stored %+v, want one order of key id %q", st.created, tt.keyID)
			}
		})
	}
}

func TestIdempotencyScopes(t *testing.T) {
	open := testOrderConfig
	open.RequireAPIKey = false
	tests := []struct {
		name   string
		header http.Header
		scope  string
	}{
		{"a key: its id", http.Header{"Api_key": {"apitest"}, "Idempotency-Key": {"k1"}}, "key:demo"},
		{"anonymous: the client IP", http.Header{"Idempotency-Key": {"k1"}}, "ip:192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeOrders{}
			e := newTestEngine(t, newHandler(NewService(newCatalog(), &fakePromo{}, st, open, testMetrics(t), noop.NewTracerProvider()), testAuth(t), open))
			rec := serve(e, http.MethodPost, "/api/order", `{"items":[{"productId":"1","quantity":1}]}`, tt.header)
			if rec.Code != 200 || len(st.idem) != 1 || st.idem[0] == nil {
				t.Fatalf("status %d, records %v", rec.Code, st.idem)
			}
			if st.idem[0].scope != tt.scope {
				t.Errorf("scope %q, want %q", st.idem[0].scope, tt.scope)
			}
		})
	}
}

// TestOneRateLimitForEveryVersion: the same routes answer under /api and
// /api/v1, and a caller's budget is one, whichever path it takes.
func TestOneRateLimitForEveryVersion(t *testing.T) {
	cfg := testOrderConfig
	cfg.RateLimit = ratelimit.Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 2}
	e := newTestEngine(t, newHandler(NewService(newCatalog(), &fakePromo{}, &fakeOrders{}, cfg, testMetrics(t), noop.NewTracerProvider()), testAuth(t), cfg))
	const body = `{"items":[{"productId":"1","quantity":1}]}`
	for i, path := range []string{"/api/order", "/api/v1/order", "/api/v1/order", "/api/order"} {
		rec := serve(e, http.MethodPost, path, body, withKey)
		want := http.StatusOK
		if i >= cfg.RateLimit.Burst {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Errorf("request %d to %s: status %d, want %d", i+1, path, rec.Code, want)
		}
	}
}
