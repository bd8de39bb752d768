package test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBrowserClientShapes replays what real shop front ends send.
func TestBrowserClientShapes(t *testing.T) {
	a := startApp(t, map[string]any{"server.cors.allowed_origins": []string{"https://shop.example"}})

	t.Run("preflight without api key", func(t *testing.T) {
		res := a.do(http.MethodOptions, "/api/order", "",
			"Origin", "https://shop.example",
			"Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type,api_key,idempotency-key,x-correlation-id")
		h := res.header
		if res.status != 204 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Fatalf("preflight = %d %v", res.status, h)
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"content-type", "api_key", "idempotency-key", "x-correlation-id"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("Access-Control-Allow-Methods = %q", h.Get("Access-Control-Allow-Methods"))
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		res := a.do(http.MethodOptions, "/api/order", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign origin allowed: %v", res.header)
		}
	})
	t.Run("exposed headers", func(t *testing.T) {
		res := a.do(http.MethodGet, "/api/product", "", "Origin", "https://shop.example")
		exposed := res.header.Get("Access-Control-Expose-Headers")
		for _, want := range []string{"X-Correlation-ID", "X-Total-Count", "Retry-After"} {
			if !strings.Contains(exposed, want) {
				t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, want)
			}
		}
	})
	t.Run("text/plain body, Api_key header, extra fields, empty coupon, trailing slash", func(t *testing.T) {
		body := `{"couponCode":"","items":[{"productId":"2","quantity":1,"name":"Crème Brûlée","price":7}],"cart":{"total":7,"count":1}}`
		res := a.do(http.MethodPost, "/api/order/", body, "Content-Type", "text/plain;charset=UTF-8", "Api_key", "apitest", "Origin", "https://shop.example")
		var o orderResp
		res.json(t, &o)
		if res.status != 200 || o.Total != 7 || o.Discounts != 0 {
			t.Errorf("= %d %s", res.status, res.body)
		}
		if res.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Errorf("no CORS header on the order response: %v", res.header)
		}
	})
	t.Run("a body that is not JSON is rejected whatever its type", func(t *testing.T) {
		res := a.do(http.MethodPost, "/api/order", "productId=1&quantity=1", "Content-Type", "application/x-www-form-urlencoded", "api_key", "apitest")
		if res.status != 400 || res.errorCode(t).Error != "INVALID_JSON" {
			t.Errorf("= %d %s", res.status, res.body)
		}
	})
	t.Run("trailing slashes answered directly", func(t *testing.T) {
		for _, path := range []string{"/api/product/", "/api/product/3/"} {
			if res := a.do(http.MethodGet, path, ""); res.status != 200 {
				t.Errorf("GET %s = %d", path, res.status)
			}
		}
	})
}

func TestRateLimits(t *testing.T) {
	a := startApp(t, map[string]any{
		"server.trusted_proxies":                  []string{"127.0.0.1"},
		"server.rate_limit.enabled":               true,
		"server.rate_limit.requests_per_second":   0.01,
		"server.rate_limit.burst":                 3,
		"ordering.rate_limit.enabled":             true,
		"ordering.rate_limit.requests_per_second": 0.01,
		"ordering.rate_limit.burst":               1,
		"auth.api_keys":                           []string{"apitest", "other"},
	})
	ip := func(n int) string { return fmt.Sprintf("203.0.113.%d", n) }
	for i := range 3 {
		if res := a.do(http.MethodGet, "/api/product/1", "", "X-Forwarded-For", ip(1)); res.status != 200 {
			t.Fatalf("request %d within the burst: %d", i, res.status)
		}
	}
	res := a.do(http.MethodGet, "/api/product/1", "", "X-Forwarded-For", ip(1))
	if res.status != 429 || res.errorCode(t).Error != "RATE_LIMITED" || res.header.Get("Retry-After") == "" {
		t.Errorf("over the per-IP limit: %d %v %s", res.status, res.header, res.body)
	}
	// Another client (as told by the trusted proxy) has its own bucket.
	if res := a.do(http.MethodGet, "/api/product/1", "", "X-Forwarded-For", ip(2)); res.status != 200 {
		t.Errorf("another client IP: %d", res.status)
	}
	// Per api key on the order routes.
	order := `{"items":[{"productId":"1","quantity":1}]}`
	if res := a.do(http.MethodPost, "/api/order", order, "api_key", "apitest", "X-Forwarded-For", ip(3)); res.status != 200 {
		t.Fatalf("first order: %d %s", res.status, res.body)
	}
	res = a.do(http.MethodPost, "/api/order", order, "api_key", "apitest", "X-Forwarded-For", ip(4))
	if res.status != 429 || res.errorCode(t).Error != "RATE_LIMITED" {
		t.Errorf("second order with the same key from another IP: %d %s", res.status, res.body)
	}
	if res := a.do(http.MethodPost, "/api/order", order, "api_key", "other", "X-Forwarded-For", ip(5)); res.status != 200 {
		t.Errorf("another api key: %d %s", res.status, res.body)
	}
	if n := a.count("orders"); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

func TestForwardedForIgnoredFromUntrustedPeers(t *testing.T) {
	a := startApp(t, map[string]any{
		"server.rate_limit.enabled":             true,
		"server.rate_limit.requests_per_second": 0.01,
		"server.rate_limit.burst":               2,
	})
	// Without trusted proxies every request is from 127.0.0.1, whatever the
	// header claims, so spoofing it does not buy a fresh bucket.
	for i := range 2 {
		a.do(http.MethodGet, "/api/product/1", "", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
	}
	if res := a.do(http.MethodGet, "/api/product/1", "", "X-Forwarded-For", "198.51.100.99"); res.status != 429 {
		t.Errorf("spoofed X-Forwarded-For got a fresh bucket: %d", res.status)
	}
}

func TestHeaderAndTimeLimits(t *testing.T) {
	a := startApp(t, map[string]any{"server.max_header_bytes": 2048, "server.request_timeout": "300ms"})
	res := a.do(http.MethodGet, "/api/product", "", "X-Padding", strings.Repeat("p", 3000))
	if res.status != 431 || res.errorCode(t).Error != "HEADER_TOO_LARGE" {
		t.Errorf("oversized headers: %d %s", res.status, res.body)
	}
	// A database that stalls past the request deadline: the client gets a
	// JSON 504 within the deadline, told when to retry as a stopped
	// database's 503 is, and nothing is stored.
	if _, err := a.db.Exec(`
		CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
		CREATE TRIGGER stall BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION stall();`); err != nil {
		t.Fatal(err)
	}
	res = a.order(`{"items":[{"productId":"1","quantity":1}]}`)
	if res.status != 504 || res.errorCode(t).Error != "TIMEOUT" || res.header.Get("Retry-After") != "2" {
		t.Errorf("stalled order: %d Retry-After %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	if _, err := a.db.Exec(`DROP TRIGGER stall ON orders`); err != nil {
		t.Fatal(err)
	}
	if n := a.count("orders"); n != 0 {
		t.Errorf("%d orders stored by a timed-out request", n)
	}
}
