package test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

const oneItem = `{"items":[{"productId":"1","quantity":1}]}`

// placeOrder posts an order with headers and returns its id, failing the
// test unless it got 200.
func (a *testApp) placeOrder(body string, headers ...string) string {
	a.t.Helper()
	res := a.do(http.MethodPost, "/api/order", body, headers...)
	if res.status != 200 {
		a.t.Fatalf("place order: %d %s", res.status, res.body)
	}
	var o orderResp
	res.json(a.t, &o)
	return o.ID
}

func TestOrdersAreScopedToTheirKey(t *testing.T) {
	a := startApp(t, map[string]any{"auth.api_keys": []string{"shop-web:web-s3cret", "pos:pos-s3cret"}})
	id := a.placeOrder(oneItem, "api_key", "web-s3cret")

	if res := a.do(http.MethodGet, "/api/order/"+id, "", "api_key", "web-s3cret"); res.status != 200 {
		t.Errorf("GET with the key that placed it: %d %s", res.status, res.body)
	}
	// Another valid key cannot read it, nor learn that it exists.
	res := a.do(http.MethodGet, "/api/order/"+id, "", "api_key", "pos-s3cret")
	if res.status != 404 || res.errorCode(t).Error != "ORDER_NOT_FOUND" {
		t.Errorf("GET with another key: %d %s, want 404 ORDER_NOT_FOUND", res.status, res.body)
	}
	if res.status == 404 {
		unknown := a.do(http.MethodGet, "/api/order/"+uuid.NewString(), "", "api_key", "pos-s3cret")
		if got, want := res.errorCode(t), unknown.errorCode(t); got.Error != want.Error || got.Message != want.Message {
			t.Errorf("another key's order %s answers unlike an unknown one %s", res.body, unknown.body)
		}
	}

	// The order keeps the key id, never the key.
	var keyID string
	if err := a.db.Get(&keyID, `SELECT api_key_id FROM orders WHERE id = $1`, id); err != nil || keyID != "shop-web" {
		t.Errorf("stored key id %q (%v), want shop-web", keyID, err)
	}
	var leaks int
	if err := a.db.Get(&leaks, `SELECT count(*) FROM orders o WHERE row_to_json(o)::text LIKE '%s3cret%'`); err != nil || leaks != 0 {
		t.Errorf("%d orders hold a secret (%v)", leaks, err)
	}
}

func TestRotatedKeyReadsItsOrders(t *testing.T) {
	dbURL := newDatabase(t)
	before := startApp(t, map[string]any{"database.url": dbURL, "auth.api_keys": []string{"shop-web:old-s3cret", "old-bare-key"}})
	key := uuid.NewString()
	placed := before.do(http.MethodPost, "/api/order", oneItem, "api_key", "old-s3cret", "Idempotency-Key", key)
	if placed.status != 200 {
		t.Fatalf("place: %d %s", placed.status, placed.body)
	}
	var o orderResp
	placed.json(t, &o)
	bare := before.placeOrder(oneItem, "api_key", "old-bare-key")

	// The deploy after the rotation: a new secret under the same id; the bare
	// key replaced by another bare key.
	after := startApp(t, map[string]any{"database.url": dbURL, "auth.api_keys": []string{"shop-web:new-s3cret", "new-bare-key"}})
	// (Image links name the server that answers, so compare the order.)
	res := after.do(http.MethodGet, "/api/order/"+o.ID, "", "api_key", "new-s3cret")
	var got orderResp
	if res.status == 200 {
		res.json(t, &got)
	}
	if res.status != 200 || got.ID != o.ID || got.Total != o.Total || len(got.Items) != len(o.Items) {
		t.Errorf("GET with the rotated key: %d %s, want the order %s", res.status, res.body, placed.body)
	}
	if res := after.do(http.MethodGet, "/api/order/"+o.ID, "", "api_key", "old-s3cret"); res.status != 403 {
		t.Errorf("GET with the retired key: %d, want 403", res.status)
	}
	// A retry across the rotation replays, since keys are scoped by id.
	retry := after.do(http.MethodPost, "/api/order", oneItem, "api_key", "new-s3cret", "Idempotency-Key", key)
	if retry.status != 200 || retry.header.Get("Idempotent-Replayed") != "true" || string(retry.body) != string(placed.body) {
		t.Errorf("retry with the rotated key: %d %v %s, want the replayed order", retry.status, retry.header, retry.body)
	}
	// A bare key's id is its fingerprint, so it does not survive rotation,
	// as the configuration documents.
	res = after.do(http.MethodGet, "/api/order/"+bare, "", "api_key", "new-bare-key")
	if res.status != 404 || res.errorCode(t).Error != "ORDER_NOT_FOUND" {
		t.Errorf("GET with a new bare key: %d %s, want 404", res.status, res.body)
	}
	if n := after.count("orders"); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

func TestAnonymousOrders(t *testing.T) {
	a := startApp(t, map[string]any{
		"ordering.require_api_key":                false,
		"server.trusted_proxies":                  []string{"127.0.0.1"},
		"ordering.rate_limit.enabled":             true,
		"ordering.rate_limit.requests_per_second": 0.01,
		"ordering.rate_limit.burst":               2,
	})
	ip := func(n int) string { return "203.0.113." + string(rune('0'+n)) }

	// No key: an anonymous order, owned by nobody.
	key := uuid.NewString()
	first := a.do(http.MethodPost, "/api/order", oneItem, "X-Forwarded-For", ip(1), "Idempotency-Key", key)
	if first.status != 200 {
		t.Fatalf("anonymous order: %d %s", first.status, first.body)
	}
	var o orderResp
	first.json(t, &o)
	var owner *string
	if err := a.db.Get(&owner, `SELECT api_key_id FROM orders WHERE id = $1`, o.ID); err != nil || owner != nil {
		t.Errorf("anonymous order owned by %v (%v), want NULL", owner, err)
	}
	// Idempotency still applies, scoped by client IP.
	again := a.do(http.MethodPost, "/api/order", oneItem, "X-Forwarded-For", ip(1), "Idempotency-Key", key)
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Errorf("anonymous retry: %d %v %s, want the replay", again.status, again.header, again.body)
	}
	other := a.do(http.MethodPost, "/api/order", oneItem, "X-Forwarded-For", ip(2), "Idempotency-Key", key)
	if other.status != 200 || other.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("same Idempotency-Key from another IP: %d %v, want a new order", other.status, other.header)
	}

	// A wrong key is still refused, and stores nothing.
	before := a.count("orders")
	if res := a.do(http.MethodPost, "/api/order", oneItem, "api_key", "nope", "X-Forwarded-For", ip(3)); res.status != 403 || res.errorCode(t).Error != "FORBIDDEN" {
		t.Errorf("wrong key: %d %s, want 403 FORBIDDEN", res.status, res.body)
	}
	if a.count("orders") != before {
		t.Error("a refused request stored an order")
	}

	// Reading needs a key, and no key reads an anonymous order.
	if res := a.do(http.MethodGet, "/api/order/"+o.ID, "", "X-Forwarded-For", ip(4)); res.status != 401 {
		t.Errorf("GET without a key: %d, want 401", res.status)
	}
	if res := a.do(http.MethodGet, "/api/order/"+o.ID, "", "api_key", "apitest", "X-Forwarded-For", ip(4)); res.status != 404 || res.errorCode(t).Error != "ORDER_NOT_FOUND" {
		t.Errorf("GET of an anonymous order with a key: %d %s, want 404", res.status, res.body)
	}

	// The rate limit applies per client IP: ip(1) used its burst of two.
	res := a.do(http.MethodPost, "/api/order", oneItem, "X-Forwarded-For", ip(1))
	if res.status != 429 || res.errorCode(t).Error != "RATE_LIMITED" {
		t.Errorf("third anonymous order from one IP: %d %s, want 429", res.status, res.body)
	}
	if res := a.do(http.MethodPost, "/api/order", oneItem, "X-Forwarded-For", ip(5)); res.status != 200 {
		t.Errorf("anonymous order from another IP: %d %s", res.status, res.body)
	}
}
