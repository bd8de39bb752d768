package test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type orderResp struct {
	ID    string `json:"id"`
	Items []struct {
		ProductID string `json:"productId"`
		Quantity  int    `json:"quantity"`
	} `json:"items"`
	Products  []product `json:"products"`
	Total     float64   `json:"total"`
	Discounts float64   `json:"discounts"`
}

func TestOrderAuth(t *testing.T) {
	a := startApp(t, map[string]any{"auth.api_keys": []string{"old-key", "new-key"}})
	body := `{"items":[{"productId":"1","quantity":1}]}`
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"missing", nil, 401, "UNAUTHORIZED"},
		{"empty", []string{"api_key", ""}, 401, "UNAUTHORIZED"},
		{"wrong", []string{"api_key", "apitest"}, 403, "FORBIDDEN"},
		{"prefix of a key", []string{"api_key", "new-ke"}, 403, "FORBIDDEN"},
		{"old key during rotation", []string{"api_key", "old-key"}, 200, ""},
		{"new key", []string{"api_key", "new-key"}, 200, ""},
		{"header name case-insensitive", []string{"API_KEY", "new-key"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.count("orders")
			res := a.do(http.MethodPost, "/api/order", body, tt.headers...)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.code != "" {
				if e := res.errorCode(t); e.Error != tt.code {
					t.Errorf("error %q, want %q", e.Error, tt.code)
				}
				if a.count("orders") != before {
					t.Error("a rejected request stored an order")
				}
			}
		})
	}
	// GET order obeys the same rules.
	if res := a.do(http.MethodGet, "/api/order/00000000-0000-0000-0000-000000000000", ""); res.status != 401 {
		t.Errorf("GET order without key: %d, want 401", res.status)
	}
}

func TestOrderRejectsBadInput(t *testing.T) {
	a := startApp(t, map[string]any{"ordering.max_items": 5, "ordering.max_quantity": 50, "ordering.max_body_bytes": 2048})
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty body", ``, 400, "INVALID_JSON"},
		{"blank body", "  \n ", 400, "INVALID_JSON"},
		{"malformed", `{"items":[`, 400, "INVALID_JSON"},
		{"trailing garbage", `{"items":[{"productId":"1","quantity":1}]} x`, 400, "INVALID_JSON"},
		{"array top level", `[{"productId":"1","quantity":1}]`, 400, "INVALID_JSON"},
		{"string top level", `"order"`, 400, "INVALID_JSON"},
		{"null top level", `null`, 400, "INVALID_JSON"},
		{"empty object", `{}`, 400, "MISSING_FIELD"},
		{"items null", `{"items":null}`, 400, "MISSING_FIELD"},
		{"items empty", `{"items":[]}`, 400, "MISSING_FIELD"},
		{"items not array", `{"items":{"productId":"1"}}`, 400, "INVALID_FIELD"},
		{"item not object", `{"items":[1]}`, 400, "INVALID_FIELD"},
		{"item without productId", `{"items":[{"quantity":1}]}`, 400, "MISSING_FIELD"},
		{"item without quantity", `{"items":[{"productId":"1"}]}`, 400, "MISSING_FIELD"},
		{"productId null", `{"items":[{"productId":null,"quantity":1}]}`, 400, "MISSING_FIELD"},
		{"productId empty", `{"items":[{"productId":"","quantity":1}]}`, 400, "MISSING_FIELD"},
		{"productId number", `{"items":[{"productId":1,"quantity":1}]}`, 400, "INVALID_FIELD"},
		{"productId object", `{"items":[{"productId":{},"quantity":1}]}`, 400, "INVALID_FIELD"},
		{"quantity zero", `{"items":[{"productId":"1","quantity":0}]}`, 400, "INVALID_QUANTITY"},
		{"quantity negative", `{"items":[{"productId":"1","quantity":-3}]}`, 400, "INVALID_QUANTITY"},
		{"quantity fraction", `{"items":[{"productId":"1","quantity":1.5}]}`, 400, "INVALID_QUANTITY"},
		{"quantity exponent", `{"items":[{"productId":"1","quantity":1e1}]}`, 400, "INVALID_QUANTITY"},
		{"quantity string", `{"items":[{"productId":"1","quantity":"2"}]}`, 400, "INVALID_QUANTITY"},
		{"quantity bool", `{"items":[{"productId":"1","quantity":true}]}`, 400, "INVALID_QUANTITY"},
		{"quantity over max", `{"items":[{"productId":"1","quantity":51}]}`, 400, "INVALID_QUANTITY"},
		{"quantity overflow", `{"items":[{"productId":"1","quantity":99999999999999999999999}]}`, 400, "INVALID_QUANTITY"},
		{"too many items", `{"items":[` + strings.Repeat(`{"productId":"1","quantity":1},`, 5) + `{"productId":"1","quantity":1}]}`, 400, "TOO_MANY_ITEMS"},
		{"couponCode number", `{"couponCode":12345678,"items":[{"productId":"1","quantity":1}]}`, 400, "INVALID_FIELD"},
		{"body too large", `{"items":[{"productId":"1","quantity":1}],"pad":"` + strings.Repeat("x", 3000) + `"}`, 413, "BODY_TOO_LARGE"},
		{"unknown product", `{"items":[{"productId":"999","quantity":1}]}`, 422, "PRODUCT_NOT_FOUND"},
		{"non-numeric product", `{"items":[{"productId":"abc","quantity":1}]}`, 422, "PRODUCT_NOT_FOUND"},
		{"sql in product id", `{"items":[{"productId":"1; DROP TABLE orders","quantity":1}]}`, 422, "PRODUCT_NOT_FOUND"},
		{"coupon too short", `{"couponCode":"SHORT","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_LENGTH"},
		{"coupon too long", `{"couponCode":"ABCDEFGHIJK","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_LENGTH"},
		{"coupon in one file only", `{"couponCode":"SUPER100","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_CODE"},
		{"coupon repeated inside one file", `{"couponCode":"MOODYHRS","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_CODE"},
		{"coupon padded collision", `{"couponCode":"OVER900000","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_CODE"},
		{"coupon substring", `{"couponCode":"BIRTHDA","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_LENGTH"},
		{"coupon random", `{"couponCode":"ZZZZZZZZZ","items":[{"productId":"1","quantity":1}]}`, 422, "INVALID_PROMO_CODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.order(tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if e := res.errorCode(t); e.Error != tt.code {
				t.Errorf("error %q, want %q (%s)", e.Error, tt.code, res.body)
			}
		})
	}
	if n := a.count("orders"); n != 0 {
		t.Errorf("%d orders stored by rejected requests", n)
	}
}

func TestOrderNamesEveryUnknownProduct(t *testing.T) {
	a := startApp(t, nil)
	res := a.order(`{"items":[{"productId":"1","quantity":1},{"productId":"404","quantity":1},{"productId":"x","quantity":2},{"productId":"404","quantity":1}]}`)
	if res.status != 422 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	e := res.errorCode(t)
	var got []string
	for _, d := range e.Details {
		got = append(got, d.Field+"="+d.Value)
	}
	want := "items[1].productId=404 items[2].productId=x items[3].productId=404"
	if strings.Join(got, " ") != want {
		t.Errorf("details %v, want %s", got, want)
	}
}

func TestOrderTotalsAndDiscounts(t *testing.T) {
	a := startApp(t, nil)
	// Waffle 6.50 x2, Macaron 8.00 x1, Baklava 4.00 x3: subtotal 33.00.
	items := `"items":[{"productId":"1","quantity":2},{"productId":"3","quantity":1},{"productId":"5","quantity":3}]`
	tests := []struct {
		name, coupon     string
		total, discounts float64
		stored           string
	}{
		{"no coupon", `"couponCode":null,`, 33.00, 0, ""},
		{"absent coupon", ``, 33.00, 0, ""},
		{"empty coupon means none", `"couponCode":"",`, 33.00, 0, ""},
		{"blank coupon means none", `"couponCode":"   ",`, 33.00, 0, ""},
		{"HAPPYHRS 18 percent", `"couponCode":"HAPPYHRS",`, 27.06, 5.94, "HAPPYHRS"},
		{"trimmed and case-insensitive", `"couponCode":"  happyHrs \t",`, 27.06, 5.94, "HAPPYHRS"},
		{"FIFTYOFF", `"couponCode":"FIFTYOFF",`, 16.50, 16.50, "FIFTYOFF"},
		{"SIXTYOFF", `"couponCode":"sixtyoff",`, 13.20, 19.80, "SIXTYOFF"},
		{"BUYGETON cheapest unit free", `"couponCode":"BUYGETON",`, 29.00, 4.00, "BUYGETON"},
		{"default 10 percent", `"couponCode":"BIRTHDAY",`, 29.70, 3.30, "BIRTHDAY"},
		{"default for OVER9000", `"couponCode":"OVER9000",`, 29.70, 3.30, "OVER9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.order("{" + tt.coupon + items + `,"cart":{"summary":"ignored"}}`)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var o orderResp
			res.json(t, &o)
			if o.Total != tt.total || o.Discounts != tt.discounts {
				t.Errorf("total %v discounts %v, want %v and %v", o.Total, o.Discounts, tt.total, tt.discounts)
			}
			if len(o.Items) != 3 || o.Items[0].ProductID != "1" || o.Items[0].Quantity != 2 || o.Items[2].Quantity != 3 {
				t.Errorf("items %+v do not echo the request", o.Items)
			}
			if len(o.Products) != 3 || o.Products[1].Name != "Macaron Mix of Five" || o.Products[1].Image.Thumbnail == "" {
				t.Errorf("products %+v, want the three full products", o.Products)
			}
			var row struct {
				Coupon   *string `db:"coupon_code"`
				Subtotal int64   `db:"subtotal_cents"`
				Discount int64   `db:"discount_cents"`
				Total    int64   `db:"total_cents"`
			}
			if err := a.db.Get(&row, `SELECT coupon_code, subtotal_cents, discount_cents, total_cents FROM orders WHERE id = $1`, o.ID); err != nil {
				t.Fatalf("stored order: %v", err)
			}
			coupon := ""
			if row.Coupon != nil {
				coupon = *row.Coupon
			}
			if coupon != tt.stored || row.Subtotal != 3300 || row.Discount != int64(tt.discounts*100+0.5) || row.Total != int64(tt.total*100+0.5) {
				t.Errorf("stored %+v (coupon %q), want coupon %q subtotal 3300", row, coupon, tt.stored)
			}
			var prices []int64
			if err := a.db.Select(&prices, `SELECT unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY position`, o.ID); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(prices) != "[650 800 400]" {
				t.Errorf("stored unit prices %v, want [650 800 400]", prices)
			}
		})
	}
}

func TestOrderProductsListedOnce(t *testing.T) {
	a := startApp(t, nil)
	res := a.order(`{"items":[{"productId":"2","quantity":1},{"productId":"2","quantity":2},{"productId":"7","quantity":1}]}`)
	var o orderResp
	res.json(t, &o)
	if res.status != 200 || len(o.Items) != 3 || len(o.Products) != 2 || o.Products[0].ID != "2" || o.Products[1].ID != "7" {
		t.Fatalf("status %d, order %+v: want 3 items and products [2 7]", res.status, o)
	}
	if o.Total != 25.50 {
		t.Errorf("total %v, want 25.5", o.Total)
	}
}

func TestDiscountRulesFromConfig(t *testing.T) {
	a := startApp(t, map[string]any{"promo.rules": map[string]any{
		"default": map[string]any{"discount": "2.00"},
		"codes": map[string]any{
			"GNULINUX": map[string]any{"discount": "50.00"},
			"FREEZAAA": map[string]any{"discount": "25%", "min_subtotal": "20.00"},
		},
	}})
	tests := []struct {
		body             string
		total, discounts float64
	}{
		{`{"couponCode":"BIRTHDAY","items":[{"productId":"4","quantity":1}]}`, 3.50, 2.00},
		{`{"couponCode":"GNULINUX","items":[{"productId":"4","quantity":1}]}`, 0, 5.50}, // never below zero
		{`{"couponCode":"FREEZAAA","items":[{"productId":"4","quantity":1}]}`, 5.50, 0}, // under min_subtotal
		{`{"couponCode":"FREEZAAA","items":[{"productId":"3","quantity":3}]}`, 18.00, 6.00},
	}
	for _, tt := range tests {
		res := a.order(tt.body)
		var o orderResp
		res.json(t, &o)
		if res.status != 200 || o.Total != tt.total || o.Discounts != tt.discounts {
			t.Errorf("%s: status %d total %v discounts %v, want %v and %v", tt.body, res.status, o.Total, o.Discounts, tt.total, tt.discounts)
		}
	}
}

func TestGetOrder(t *testing.T) {
	a := startApp(t, nil)
	placed := a.order(`{"couponCode":"HAPPYHRS","items":[{"productId":"6","quantity":2},{"productId":"8","quantity":1}]}`)
	if placed.status != 200 {
		t.Fatalf("place: %d %s", placed.status, placed.body)
	}
	var o orderResp
	placed.json(t, &o)

	got := a.do(http.MethodGet, "/api/order/"+o.ID, "", "api_key", "apitest")
	if got.status != 200 || string(got.body) != string(placed.body) {
		t.Errorf("GET order = %d %s, want the placed order %s", got.status, got.body, placed.body)
	}
	// A later price change does not rewrite the order.
	if _, err := a.db.Exec(`UPDATE products SET price_cents = 9999 WHERE id = 6`); err != nil {
		t.Fatal(err)
	}
	again := a.do(http.MethodGet, "/api/order/"+o.ID+"/", "", "api_key", "apitest")
	if string(again.body) != string(placed.body) {
		t.Errorf("after a price change GET order = %s, want %s", again.body, placed.body)
	}
	for path, want := range map[string]struct {
		status int
		code   string
	}{
		"/api/order/not-a-uuid":                           {400, "INVALID_PARAMETER"},
		"/api/order/00000000-0000-0000-0000-000000000000": {404, "ORDER_NOT_FOUND"},
		"/api/order/" + strings.ToUpper(o.ID) + "0":       {400, "INVALID_PARAMETER"},
	} {
		res := a.do(http.MethodGet, path, "", "api_key", "apitest")
		if res.status != want.status || res.errorCode(t).Error != want.code {
			t.Errorf("GET %s = %d %s, want %d %s", path, res.status, res.body, want.status, want.code)
		}
	}
}

func TestOrderTransactionRollsBack(t *testing.T) {
	a := startApp(t, nil)
	// A fault injected in the database after the order row is written: the
	// items insert fails, and the order row must not survive.
	if _, err := a.db.Exec(`
		CREATE FUNCTION fail_items() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.quantity = 13 THEN RAISE EXCEPTION 'injected fault'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_items BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION fail_items();`); err != nil {
		t.Fatal(err)
	}
	res := a.order(`{"items":[{"productId":"1","quantity":1},{"productId":"2","quantity":13}]}`)
	if res.status != 500 {
		t.Fatalf("status %d, want 500 from the injected fault: %s", res.status, res.body)
	}
	e := res.errorCode(t)
	if e.Error != "INTERNAL_ERROR" || strings.Contains(string(res.body), "injected") || strings.Contains(string(res.body), "order_items") {
		t.Errorf("500 body leaks internals or has the wrong code: %s", res.body)
	}
	if n, m := a.count("orders"), a.count("order_items"); n != 0 || m != 0 {
		t.Errorf("after a failed transaction: %d orders, %d items; want none", n, m)
	}
	if ok := a.order(`{"items":[{"productId":"1","quantity":1}]}`); ok.status != 200 {
		t.Errorf("next order: %d %s", ok.status, ok.body)
	}
}

func TestConcurrentOrders(t *testing.T) {
	a := startApp(t, nil)
	const n = 100
	var wg sync.WaitGroup
	ids := make(chan string, n)
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"couponCode":"FIFTYOFF","items":[{"productId":"%d","quantity":%d}]}`, i%9+1, i%5+1)
			req, _ := http.NewRequest(http.MethodPost, a.base+"/api/order", strings.NewReader(body))
			req.Header.Set("api_key", "apitest")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer res.Body.Close()
			var o orderResp
			if res.StatusCode != 200 {
				errs <- fmt.Sprintf("status %d", res.StatusCode)
				return
			}
			if err := decodeJSON(res.Body, &o); err != nil {
				errs <- err.Error()
				return
			}
			ids <- o.ID
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != n || a.count("orders") != n || a.count("order_items") != n {
		t.Errorf("%d distinct ids, %d orders, %d items; want %d of each", len(seen), a.count("orders"), a.count("order_items"), n)
	}
}
