package test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMalformedInputNever500 throws hostile input at every route and wants
// a 4xx JSON error each time, never a 5xx, and no row written.
func TestMalformedInputNever500(t *testing.T) {
	a := startApp(t, nil)
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	manyItems := `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"productId":"1","quantity":1},`, 10000), ",") + `]}`
	script := `<script>alert(1)</script>`
	sql := `1'); DROP TABLE orders; --`
	bodies := map[string]string{
		"deep nesting":                    deep,
		"deep nesting in items":           `{"items":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		"10k items":                       manyItems,
		"invalid UTF-8":                   "{\"items\":[{\"productId\":\"\xff\xfe\",\"quantity\":1}]}",
		"invalid UTF-8 coupon":            "{\"couponCode\":\"\xc3\x28ABCDEFG\",\"items\":[{\"productId\":\"1\",\"quantity\":1}]}",
		"NUL bytes":                       "{\"items\":[{\"productId\":\"1\\u0000\",\"quantity\":1}]}",
		"raw NUL":                         "{\"items\":[{\"productId\":\"1\x00\",\"quantity\":1}]}",
		"NUL in coupon":                   `{"couponCode":"HAPPY\u0000HRS","items":[{"productId":"1","quantity":1}]}`,
		"duplicate keys":                  `{"items":[{"productId":"1","quantity":1}],"items":null}`,
		"duplicate quantity":              `{"items":[{"productId":"1","quantity":1,"quantity":-1}]}`,
		"null everywhere":                 `{"couponCode":null,"items":[null]}`,
		"null item fields":                `{"items":[{"productId":null,"quantity":null}]}`,
		"huge quantity":                   `{"items":[{"productId":"1","quantity":1e308}]}`,
		"overflowing quantity":            `{"items":[{"productId":"1","quantity":9223372036854775808}]}`,
		"negative zero quantity":          `{"items":[{"productId":"1","quantity":-0}]}`,
		"huge product id":                 `{"items":[{"productId":"99999999999999999999999999","quantity":1}]}`,
		"negative product id":             `{"items":[{"productId":"-1","quantity":1}]}`,
		"sql in product id":               `{"items":[{"productId":"` + sql + `","quantity":1}]}`,
		"sql in coupon":                   `{"couponCode":"` + sql + `","items":[{"productId":"1","quantity":1}]}`,
		"script in product id":            `{"items":[{"productId":"` + script + `","quantity":1}]}`,
		"script in coupon":                `{"couponCode":"` + script + `","items":[{"productId":"1","quantity":1}]}`,
		"sql-shaped coupon of valid size": `{"couponCode":"'OR 1=1--","items":[{"productId":"1","quantity":1}]}`,
		"array body":                      `[]`,
		"number body":                     `42`,
		"bare string":                     `"x"`,
		"truncated":                       `{"items":[{"productId":"1","quantity":1}`,
		"BOM":                             "\xef\xbb\xbf{\"items\":[{\"productId\":\"1\",\"quantity\":1}]}",
		"comment":                         `{/* c */"items":[{"productId":"1","quantity":1}]}`,
		"single quotes":                   `{'items':[{'productId':'1','quantity':1}]}`,
		"items string":                    `{"items":"1x2"}`,
		"items object":                    `{"items":{"0":{"productId":"1","quantity":1}}}`,
		"quantity array":                  `{"items":[{"productId":"1","quantity":[1]}]}`,
		"productId array":                 `{"items":[{"productId":["1"],"quantity":1}]}`,
		"coupon array":                    `{"couponCode":["HAPPYHRS"],"items":[{"productId":"1","quantity":1}]}`,
		"coupon object":                   `{"couponCode":{"code":"HAPPYHRS"},"items":[{"productId":"1","quantity":1}]}`,
		"very long coupon":                `{"couponCode":"` + strings.Repeat("A", 100000) + `","items":[{"productId":"1","quantity":1}]}`,
		"very long product id":            `{"items":[{"productId":"` + strings.Repeat("9", 100000) + `","quantity":1}]}`,
	}
	for name, body := range bodies {
		t.Run("POST order "+name, func(t *testing.T) {
			res := a.order(body)
			if res.status < 400 || res.status >= 500 {
				t.Fatalf("status %d: %s", res.status, clipBody(res.body))
			}
			res.errorCode(t)
		})
	}
	paths := []string{
		"/api/product/%00", "/api/product/%ff%fe", "/api/product/" + strings.Repeat("9", 5000),
		"/api/product?limit=%00", "/api/product?offset=1e3", "/api/product?limit=1&limit=2000",
		"/api/product/1%27%3B%20DROP%20TABLE%20products%3B--", "/api/product/%3Cscript%3E",
		"/api/order/%00", "/api/order/" + strings.Repeat("a", 5000), "/api/order/%2e%2e",
	}
	for _, p := range paths {
		t.Run("GET "+p[:min(len(p), 60)], func(t *testing.T) {
			res := a.do(http.MethodGet, p, "", "api_key", "apitest")
			if res.status < 400 || res.status >= 500 {
				t.Fatalf("status %d: %s", res.status, clipBody(res.body))
			}
			res.errorCode(t)
		})
	}
	if n, m := a.count("orders"), a.count("order_items"); n != 0 || m != 0 {
		t.Errorf("%d orders and %d items written by malformed requests", n, m)
	}
	if n := a.count("products"); n != 9 {
		t.Errorf("%d products, want the 9 seeded", n)
	}
}

func clipBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
