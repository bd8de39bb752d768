package apidoc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// referencePath is the public contract, kept in the repository as test data
// so that a clone with nothing beside it runs every test.
const referencePath = "testdata/kart-openapi.yaml"

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("examples: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
}

func TestDocumentDescribesEveryRoute(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GET /api/product":        "listProducts",
		"GET /api/product/{}":     "getProduct",
		"POST /api/order":         "placeOrder",
		"GET /api/order/{}":       "getOrder",
		"GET /api/images/{}":      "getProductImage",
		"GET /health":             "getHealth",
		"GET /livez":              "getLiveness",
		"GET /readyz":             "getReadiness",
		"GET /metrics":            "getMetrics",
		"GET " + YAMLPath:         "getOpenAPIYAML",
		"GET " + JSONPath:         "getOpenAPIJSON",
		"GET " + DocsPath:         "getDocs",
		"GET " + DocsPath + "/{}": "getDocsAsset",
		"OPTIONS /api/product":    "preflightProducts",
		"OPTIONS /api/product/{}": "preflightProduct",
		"OPTIONS /api/order":      "preflightOrder",
		"OPTIONS /api/order/{}":   "preflightGetOrder",
	}
	got := operations(doc)
	for key, id := range want {
		op, ok := got[key]
		if !ok {
			t.Errorf("%s: not described", key)
			continue
		}
		if op.op.OperationID != id {
			t.Errorf("%s: operationId = %q, want %q", key, op.op.OperationID, id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("document has %d operations, want %d", len(got), len(want))
	}
}

func TestEveryResponseDocumentsCorrelationID(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	for key, op := range operations(doc) {
		for status, resp := range op.op.Responses.Map() {
			if status == "431" {
				// The HTTP server itself refuses the largest header blocks,
				// before the middleware that sets the id runs.
				continue
			}
			h := resp.Value.Headers["X-Correlation-ID"]
			if h == nil || !h.Value.Required {
				t.Errorf("%s %s: no required X-Correlation-ID header", key, status)
			}
		}
	}
}

func TestCompatibleWithReference(t *testing.T) {
	problems := checkCompatible(loadReference(t), mustDocument(t))
	for _, p := range problems {
		t.Error(p)
	}
}

func TestCompatibilityCheckCatchesBreakingChanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(doc *openapi3.T)
		want   string
	}{
		{
			name:   "removed response field",
			mutate: func(doc *openapi3.T) { delete(doc.Components.Schemas["Product"].Value.Properties, "price") },
			want:   "GET /api/product response 200[]: field price missing",
		},
		{
			name:   "removed nested response field",
			mutate: func(doc *openapi3.T) { delete(schemaAt(doc, "Product", "image").Properties, "tablet") },
			want:   "GET /api/product/{} response 200.image: field tablet missing",
		},
		{
			name:   "response field changed to string",
			mutate: func(doc *openapi3.T) { schemaAt(doc, "Order", "total").Type = &openapi3.Types{"string"} },
			want:   "POST /api/order response 200.total: type [string], reference has [number]",
		},
		{
			name:   "request field narrowed from integer",
			mutate: func(doc *openapi3.T) { schemaAt(doc, "OrderItem", "quantity").Type = &openapi3.Types{"string"} },
			want:   "POST /api/order request body.items[].quantity: type [string], reference has [integer]",
		},
		{
			name: "request field newly required",
			mutate: func(doc *openapi3.T) {
				s := doc.Components.Schemas["OrderReq"].Value
				s.Required = append(s.Required, "couponCode")
			},
			want: "POST /api/order request body: field couponCode is required but optional in the reference",
		},
		{
			name: "path parameter changed to boolean",
			mutate: func(doc *openapi3.T) {
				op := doc.Paths.Value("/product/{productId}").Get
				op.Parameters.GetByInAndName("path", "productId").Schema.Value.Type = &openapi3.Types{"boolean"}
			},
			want: "GET /api/product/{} parameter path:productId: type [boolean], reference has [integer]",
		},
		{
			name:   "removed response status",
			mutate: func(doc *openapi3.T) { doc.Paths.Value("/product/{productId}").Get.Responses.Delete("404") },
			want:   "GET /api/product/{}: response 404 missing",
		},
		{
			name:   "removed operation",
			mutate: func(doc *openapi3.T) { doc.Paths.Value("/order").Post = nil },
			want:   "POST /api/order: operation missing",
		},
		{
			name:   "moved off the base path",
			mutate: func(doc *openapi3.T) { doc.Servers = openapi3.Servers{{URL: "/v2"}} },
			want:   "GET /api/product: operation missing",
		},
		{
			name:   "security dropped",
			mutate: func(doc *openapi3.T) { doc.Paths.Value("/order").Post.Security = &openapi3.SecurityRequirements{} },
			want:   "POST /api/order: security scheme api_key not required",
		},
	}
	ref := loadReference(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustDocument(t)
			tt.mutate(doc)
			problems := checkCompatible(ref, doc)
			for _, p := range problems {
				if p == tt.want {
					return
				}
			}
			t.Errorf("problems %q do not include %q", problems, tt.want)
		})
	}
}

func TestHandlerServesDocument(t *testing.T) {
	r := newRouter(t)
	tests := []struct {
		path        string
		contentType string
	}{
		{YAMLPath, "application/yaml"},
		{JSONPath, "application/json"},
	}
	doc := mustDocument(t)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(r, tt.path)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			served, err := openapi3.NewLoader().LoadFromData(w.Body.Bytes())
			if err != nil {
				t.Fatalf("served document does not load: %v", err)
			}
			if err := served.Validate(context.Background()); err != nil {
				t.Fatalf("served document is invalid: %v", err)
			}
			if served.Paths.Len() != doc.Paths.Len() || served.Info.Title != doc.Info.Title {
				t.Errorf("served document differs: %d paths %q, want %d paths %q",
					served.Paths.Len(), served.Info.Title, doc.Paths.Len(), doc.Info.Title)
			}
		})
	}
}

func TestJSONKeepsTheYAMLContent(t *testing.T) {
	js, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]any
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if fromJSON["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", fromJSON["openapi"])
	}
	if !strings.Contains(string(js), `"X-Correlation-ID"`) || !strings.Contains(string(js), `"correlation_id"`) {
		t.Error("JSON lacks names the YAML has")
	}
}

var assetRef = regexp.MustCompile(`(?i)<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"`)

func TestDocsPageUsesOnlyLocalAssets(t *testing.T) {
	r := newRouter(t)
	w := get(r, DocsPath)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	page := w.Body.String()
	if !strings.Contains(page, JSONPath) {
		t.Errorf("page does not point at %s", JSONPath)
	}
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("page references %d assets, want the Swagger UI script and style sheet", len(refs))
	}
	for _, m := range refs {
		src := m[1]
		if strings.Contains(src, "//") {
			t.Errorf("asset %q is not local", src)
			continue
		}
		if w := get(r, src); w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Errorf("GET %s = %d with %d bytes, want 200 with content", src, w.Code, w.Body.Len())
		}
	}
}

func TestDocsAssetNotFound(t *testing.T) {
	if w := get(newRouter(t), DocsPath+"/no-such-asset.js"); w.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", w.Code)
	}
}

func newRouter(t *testing.T) *gin.Engine {
	t.Helper()
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	h.Register(r)
	return r
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func mustDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// schemaAt returns a property's schema of a component schema.
func schemaAt(doc *openapi3.T, component, property string) *openapi3.Schema {
	return doc.Components.Schemas[component].Value.Properties[property].Value
}

// loadReference loads and validates the public contract.
func loadReference(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(referencePath)
	if err != nil {
		t.Fatalf("load reference %s: %v", referencePath, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate reference %s: %v", referencePath, err)
	}
	return doc
}
