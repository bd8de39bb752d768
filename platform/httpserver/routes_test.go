package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

func engineWith(t *testing.T, reg prometheus.Registerer, routes ...Routes) (*gin.Engine, error) {
	t.Helper()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return NewEngine(EngineParams{
		Config:     Config{RequestTimeout: time.Second},
		Log:        zerolog.Nop(),
		Registerer: reg,
		Routes:     routes,
	})
}

func serve(e *gin.Engine, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestEveryRouteAnswersUnderAPIAndV1(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := engineWith(t, reg, routeFunc(func(r gin.IRouter) {
		r.GET("/item/:itemId", func(c *gin.Context) { c.String(http.StatusOK, "item "+c.Param("itemId")) })
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/item/7", "/api/v1/item/7", "/api/v1/item/8"} {
		if rec := serve(e, http.MethodGet, path); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "item ") {
			t.Errorf("GET %s: %d %s, want 200", path, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/api/v2/item/7", "/v1/item/7", "/api/v1/v1/item/7"} {
		if rec := serve(e, http.MethodGet, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
	// One series per route template and version, whatever the ids.
	want := `
# HELP http_requests_total HTTP requests by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/item/:itemId",status="200"} 1
http_requests_total{method="GET",route="/api/v1/item/:itemId",status="200"} 2
http_requests_total{method="GET",route="unmatched",status="404"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
}

// widgetsV2 changes GET /widget/:widgetId in version 2 and keeps version 1.
type widgetsV2 struct{ later int }

func (widgetsV2) Register(r gin.IRouter) {
	r.GET("/widget/:widgetId", func(c *gin.Context) { c.String(http.StatusOK, "v1") })
}

func (w widgetsV2) RegisterLater(version func(n int) gin.IRouter) {
	version(w.later).GET("/widget/:widgetId", func(c *gin.Context) { c.String(http.StatusOK, "v2") })
}

func TestALaterVersionIsServedBesideVersionOne(t *testing.T) {
	e, err := engineWith(t, nil, widgetsV2{later: 2})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/api/widget/1": "v1", "/api/v1/widget/1": "v1", "/api/v2/widget/1": "v2"} {
		if rec := serve(e, http.MethodGet, path); rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, rec.Code, rec.Body, want)
		}
	}
	_, err = engineWith(t, nil, widgetsV2{later: 1})
	if err == nil || !strings.Contains(err.Error(), "API version 1: later versions are 2 and up") {
		t.Errorf("a later version 1: %v, want it refused", err)
	}
}

// otherRoutes is a second registrant, as another module's handler would be.
type otherRoutes struct{ routeFunc }

func TestClashingRoutesFailWithBothNamed(t *testing.T) {
	noop := func(*gin.Context) {}
	first := routeFunc(func(r gin.IRouter) {
		r.GET("/product", noop)
		r.GET("/product/:productId", noop)
	})
	tests := []struct {
		name   string
		second Routes
		want   []string
	}{
		{"a parameter named differently at the same place", otherRoutes{func(r gin.IRouter) {
			r.GET("/other", noop)
			r.GET("/product/:id/reviews", noop)
		}}, []string{
			"route GET /api/product/:id/reviews (minikart/platform/httpserver)",
			"clashes with route GET /api/product/:productId (minikart/platform/httpserver)",
			"must give it one name",
		}},
		{"the same route twice", otherRoutes{func(r gin.IRouter) { r.GET("/product", noop) }}, []string{
			"route GET /api/product (minikart/platform/httpserver) clashes with route GET /api/product (minikart/platform/httpserver)",
			"already registered",
		}},
		{"one module's own routes", routeFunc(func(r gin.IRouter) {
			r.POST("/basket/:basketId", noop)
			r.POST("/basket/:id/items", noop)
		}), []string{"routes of minikart/platform/httpserver clash with each other", "/api/basket/:id/items"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engineWith(t, nil, first, tt.second)
			if err == nil {
				t.Fatal("NewEngine succeeded, want the clash reported")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// Another method at the same place is no clash: gin keeps a tree per
	// method.
	if _, err := engineWith(t, nil, first, otherRoutes{func(r gin.IRouter) { r.DELETE("/product/:id", noop) }}); err != nil {
		t.Errorf("DELETE /product/:id beside GET /product/:productId: %v", err)
	}
}
