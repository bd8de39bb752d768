package apitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"minikart/platform/apidoc"
)

// recorder is a testing.TB that keeps what Errorf reports instead of failing
// the test, so a test can assert that the client reported a mismatch.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

const correlationID = "7f9c2b1e-3d4a-4c5b-9e6f-0a1b2c3d4e5f"

var product = gin.H{
	"id": "1", "name": "Waffle with Berries", "price": 6.5, "category": "Waffle",
	"image": gin.H{"thumbnail": "t.jpg", "mobile": "m.jpg", "tablet": "t.jpg", "desktop": "d.jpg"},
}

// fakeServer answers like the real server would on the few routes these
// tests use, and lets a test override the product list handler.
func fakeServer(t *testing.T, listProducts gin.HandlerFunc) *httptest.Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(func(c *gin.Context) { c.Header("X-Correlation-ID", correlationID) })
	r.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"error": "NOT_FOUND", "message": "route not found", "correlation_id": correlationID})
	})
	r.GET("/api/product", listProducts)
	r.GET("/api/product/", listProducts)
	r.GET("/api/legacy", func(c *gin.Context) { c.String(http.StatusNotFound, "gone") })
	r.GET("/api/secret", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"secret": true}) })
	r.POST("/api/order", func(c *gin.Context) {
		if c.GetHeader("api_key") == "" {
			c.JSON(http.StatusUnauthorized, gin.H{"error": "UNAUTHORIZED", "message": "api_key is missing", "correlation_id": correlationID})
			return
		}
		var req struct {
			Items []struct {
				ProductID string `json:"productId"`
				Quantity  int    `json:"quantity"`
			} `json:"items"`
		}
		if err := c.ShouldBindJSON(&req); err != nil || len(req.Items) == 0 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "INVALID_JSON", "message": "bad body", "correlation_id": correlationID})
			return
		}
		c.JSON(http.StatusOK, gin.H{
			"id":        "0b9ac1d8-1f4e-4a53-9d0e-3f1c2a7b5e61",
			"items":     req.Items,
			"products":  []gin.H{product},
			"total":     6.5 * float64(req.Items[0].Quantity),
			"discounts": 0,
		})
	})
	r.GET("/metrics", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte("up 1\n"))
	})
	apidoc.NewHandler(AppDocument(t)).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

var validList = listOf(product)

// listOf answers a product list of one, as the server would.
func listOf(p gin.H) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("X-Total-Count", "1")
		c.JSON(http.StatusOK, []gin.H{p})
	}
}

// productWith returns a copy of product with field set to value, or
// without field when value is nil.
func productWith(field string, value any) gin.H {
	p := gin.H{}
	for k, v := range product {
		p[k] = v
	}
	if value == nil {
		delete(p, field)
	} else {
		p[field] = value
	}
	return p
}

func invalidParameter(c *gin.Context) {
	c.JSON(http.StatusBadRequest, gin.H{"error": "INVALID_PARAMETER", "message": "limit must be 1 to 1000", "correlation_id": correlationID})
}

// exchange is one request of a test and how the fake server answers it.
type exchange struct {
	list      gin.HandlerFunc // answers GET /api/product
	method    string
	path      string
	body      string
	raw       bool // sent through Raw
	anonymous bool // sent without api_key
}

func TestClientAcceptsDocumentedExchanges(t *testing.T) {
	tests := []struct {
		name string
		exchange
		status int
	}{
		{name: "product list", exchange: exchange{list: validList, method: http.MethodGet, path: "/api/product?limit=10&offset=0"}, status: http.StatusOK},
		{name: "product list with a trailing slash", exchange: exchange{list: validList, method: http.MethodGet, path: "/api/product/"}, status: http.StatusOK},
		{name: "documented error", exchange: exchange{list: invalidParameter, method: http.MethodGet, path: "/api/product?limit=abc", raw: true}, status: http.StatusBadRequest},
		{name: "order", exchange: exchange{list: validList, method: http.MethodPost, path: "/api/order", body: `{"items":[{"productId":"1","quantity":2}],"note":"extra fields are allowed"}`}, status: http.StatusOK},
		{name: "order with a null coupon code", exchange: exchange{list: validList, method: http.MethodPost, path: "/api/order", body: `{"couponCode":null,"items":[{"productId":"1","quantity":1}]}`}, status: http.StatusOK},
		{name: "order without api key", exchange: exchange{list: validList, method: http.MethodPost, path: "/api/order", body: `{"items":[{"productId":"1","quantity":1}]}`, anonymous: true}, status: http.StatusUnauthorized},
		{name: "invalid order rejected by the server", exchange: exchange{list: validList, method: http.MethodPost, path: "/api/order", body: `{"couponCode":"HAPPYHRS"}`}, status: http.StatusBadRequest},
		{name: "invalid query rejected by the server", exchange: exchange{list: invalidParameter, method: http.MethodGet, path: "/api/product?limit=0"}, status: http.StatusBadRequest},
		{name: "unknown route answered 404", exchange: exchange{list: validList, method: http.MethodGet, path: "/api/nothing-here"}, status: http.StatusNotFound},
		{name: "raw request to unknown route", exchange: exchange{list: validList, method: http.MethodGet, path: "/api/nothing-here", raw: true}, status: http.StatusNotFound},
		{name: "metrics as text", exchange: exchange{list: validList, method: http.MethodGet, path: "/metrics"}, status: http.StatusOK},
		{name: "document as yaml", exchange: exchange{list: validList, method: http.MethodGet, path: apidoc.YAMLPath}, status: http.StatusOK},
		{name: "document as json", exchange: exchange{list: validList, method: http.MethodGet, path: apidoc.JSONPath}, status: http.StatusOK},
		{name: "docs page", exchange: exchange{list: validList, method: http.MethodGet, path: apidoc.DocsPath}, status: http.StatusOK},
		{name: "docs asset", exchange: exchange{list: validList, method: http.MethodGet, path: apidoc.DocsPath + "/swagger-ui.css"}, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeServer(t, tt.list)
			rec := &recorder{TB: t}
			resp := send(t, NewClient(rec, srv.URL), srv.URL, tt.exchange)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if len(rec.errors) != 0 {
				t.Errorf("reported %q, want nothing", rec.errors)
			}
		})
	}
}

func TestClientReportsMismatches(t *testing.T) {
	tests := []struct {
		name string
		exchange
		want []string
	}{
		{
			name: "product without price",
			exchange: exchange{
				list:   listOf(productWith("price", nil)),
				method: http.MethodGet, path: "/api/product",
			},
			want: []string{"GET /api/product -> 200: response:", "price"},
		},
		{
			name: "price as text",
			exchange: exchange{
				list:   listOf(productWith("price", "6.50")),
				method: http.MethodGet, path: "/api/product",
			},
			want: []string{"GET /api/product -> 200: response:", "price"},
		},
		{
			name: "undocumented status",
			exchange: exchange{
				list:   func(c *gin.Context) { c.JSON(http.StatusTeapot, gin.H{}) },
				method: http.MethodGet, path: "/api/product",
			},
			want: []string{"GET /api/product -> 418: response:", "status is not supported"},
		},
		{
			name: "missing total count header",
			exchange: exchange{
				list:   func(c *gin.Context) { c.JSON(http.StatusOK, []gin.H{product}) },
				method: http.MethodGet, path: "/api/product",
			},
			want: []string{"GET /api/product -> 200: response:", "X-Total-Count"},
		},
		{
			name: "undocumented error code",
			exchange: exchange{
				list: func(c *gin.Context) {
					c.JSON(http.StatusBadRequest, gin.H{"error": "LIMIT_TOO_BIG", "message": "no", "correlation_id": correlationID})
				},
				method: http.MethodGet, path: "/api/product?limit=5000", raw: true,
			},
			want: []string{"GET /api/product -> 400: response:", "/error: value is not one of the allowed values"},
		},
		{
			name: "error code of another status",
			exchange: exchange{
				list: func(c *gin.Context) {
					c.JSON(http.StatusBadRequest, gin.H{"error": "PRODUCT_NOT_FOUND", "message": "no", "correlation_id": correlationID})
				},
				method: http.MethodGet, path: "/api/product?limit=5000", raw: true,
			},
			want: []string{"GET /api/product -> 400: response:", "/error: value is not one of the allowed values"},
		},
		{
			name: "error without correlation id",
			exchange: exchange{
				list: func(c *gin.Context) {
					c.JSON(http.StatusBadRequest, gin.H{"error": "INVALID_PARAMETER", "message": "no"})
				},
				method: http.MethodGet, path: "/api/product?limit=5000", raw: true,
			},
			want: []string{"GET /api/product -> 400: response:", "correlation_id"},
		},
		{
			name: "invalid query parameter accepted",
			exchange: exchange{
				list:   validList,
				method: http.MethodGet, path: "/api/product?limit=0",
			},
			want: []string{"GET /api/product -> 200: request:", "limit"},
		},
		{
			name: "invalid order accepted",
			exchange: exchange{
				list:   validList,
				method: http.MethodPost, path: "/api/order", body: `{"items":[{"productId":"1","quantity":0}]}`,
			},
			want: []string{"POST /api/order -> 200: request:", "quantity"},
		},
		{
			name: "raw request answered without the error shape",
			exchange: exchange{
				list:   validList,
				method: http.MethodGet, path: "/api/legacy", raw: true,
			},
			want: []string{"GET /api/legacy -> 404: response:", `content type "text/plain; charset=utf-8", want application/json`},
		},
		{
			name: "undocumented route answered",
			exchange: exchange{
				list:   validList,
				method: http.MethodGet, path: "/api/secret",
			},
			want: []string{"GET /api/secret -> 200: route not documented"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeServer(t, tt.list)
			rec := &recorder{TB: t}
			send(t, NewClient(rec, srv.URL), srv.URL, tt.exchange)
			if len(rec.errors) == 0 {
				t.Fatalf("reported nothing, want %q", tt.want)
			}
			all := strings.Join(rec.errors, "\n")
			t.Log(all)
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("report %q lacks %q", all, w)
				}
			}
		})
	}
}

func TestClientSendsTheBodyItValidated(t *testing.T) {
	srv := fakeServer(t, validList)
	rec := &recorder{TB: t}
	resp := send(t, NewClient(rec, srv.URL), srv.URL, exchange{method: http.MethodPost, path: "/api/order", body: `{"items":[{"productId":"1","quantity":3}]}`})
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"total":19.5`) {
		t.Errorf("body = %s, want the total of three units", body)
	}
	if len(rec.errors) != 0 {
		t.Errorf("reported %q, want nothing", rec.errors)
	}
}

// Integration tests may run in parallel, and all their clients share one
// loaded document; the race detector checks that sharing here.
func TestClientIsSafeForConcurrentUse(t *testing.T) {
	srv := fakeServer(t, validList)
	rec := &recorder{TB: t}
	client := NewClient(rec, srv.URL)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				body := fmt.Sprintf(`{"items":[{"productId":"1","quantity":%d}]}`, i+j+1)
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/order", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("api_key", "apitest")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	if len(rec.errors) != 0 {
		t.Errorf("reported %q, want nothing", rec.errors)
	}
}

// The HTTP server answers a header block beyond its limit itself, in plain
// text and without a correlation id; the document allows for that.
func TestClientAcceptsTheHTTPServersOwnHeaderTooLarge(t *testing.T) {
	srv := fakeServer(t, validList)
	rec := &recorder{TB: t}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/product", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("x", http.DefaultMaxHeaderBytes+4096))
	resp, err := NewClient(rec, srv.URL).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status = %d, want 431", resp.StatusCode)
	}
	if len(rec.errors) != 0 {
		t.Errorf("reported %q, want nothing", rec.errors)
	}
}

func TestClientReportsRequestsToAnotherServer(t *testing.T) {
	checked, other := fakeServer(t, validList), fakeServer(t, validList)
	rec := &recorder{TB: t}
	send(t, NewClient(rec, checked.URL), other.URL, exchange{method: http.MethodGet, path: "/api/product"})
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "the client checks "+strings.TrimPrefix(checked.URL, "http://")) {
		t.Errorf("reported %q, want one report naming the checked server", rec.errors)
	}
}

func send(t *testing.T, client *http.Client, baseURL string, ex exchange) *http.Response {
	t.Helper()
	var body io.Reader
	if ex.body != "" {
		body = strings.NewReader(ex.body)
	}
	req, err := http.NewRequest(ex.method, baseURL+ex.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ex.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if !ex.anonymous {
		req.Header.Set("api_key", "apitest")
	}
	if ex.raw {
		req = Raw(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
