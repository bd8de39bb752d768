package apidoc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"minikart/platform/apperr"
	"minikart/platform/config"
	"minikart/platform/health"
	"minikart/platform/metrics"
)

// A module the platform has never heard of: the tests prove the document is
// assembled from whatever fragments arrive.
var (
	errWidgetNotFound = apperr.New(apperr.NotFound, "WIDGET_NOT_FOUND", "widget not found")
	errWidgetBent     = apperr.New(apperr.Unprocessable, "WIDGET_BENT", "widget is bent")
)

const widgetYAML = `
tags:
  - name: widget
    description: Widgets.
paths:
  /widget/{widgetId}:
    get:
      tags: [widget]
      operationId: getWidget
      parameters:
        - $ref: '#/components/parameters/CorrelationId'
        - name: widgetId
          in: path
          required: true
          schema:
            type: integer
      responses:
        '200':
          description: The widget.
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Widget'
        '404':
          description: No widget has this id.
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
          content:
            application/json:
              schema:
                allOf:
                  - $ref: '#/components/schemas/Error'
                  - properties:
                      error:
                        enum: [WIDGET_NOT_FOUND]
        '500':
          $ref: '#/components/responses/InternalError'
components:
  schemas:
    Widget:
      type: object
      required: [id]
      properties:
        id:
          type: string
          examples: ['7']
`

func widget() Fragment {
	return Fragment{Name: "widget", YAML: []byte(widgetYAML), Errors: []*apperr.Error{errWidgetNotFound, errWidgetBent}}
}

// codesOnly contributes codes and no paths, like a module whose errors
// surface through another module's routes.
func codesOnly() Fragment {
	return Fragment{Name: "bender", Errors: []*apperr.Error{errWidgetBent, apperr.New(apperr.Invalid, "BENT_AGAIN", "bent again")}}
}

func mustNew(t *testing.T, fragments ...Fragment) *Document {
	t.Helper()
	d, err := New(fragments)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustOpenAPI(t *testing.T, d *Document) *openapi3.T {
	t.Helper()
	doc, err := d.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func TestDocumentLoadsAndValidates(t *testing.T) {
	for name, frags := range map[string][]Fragment{"shared parts only": nil, "with fragments": {widget(), codesOnly()}} {
		t.Run(name, func(t *testing.T) {
			doc := mustOpenAPI(t, mustNew(t, frags...))
			if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
				t.Fatalf("examples: %v", err)
			}
			if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
				t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
			}
		})
	}
}

func TestFragmentsJoinTheDocument(t *testing.T) {
	doc := mustOpenAPI(t, mustNew(t, widget(), codesOnly()))
	if op := Operations(doc)["GET /api/widget/{widgetId}"]; op == nil || op.OperationID != "getWidget" {
		t.Errorf("fragment's operation not under the API base path: %v", slices.Sorted(maps.Keys(Operations(doc))))
	}
	if doc.Components.Schemas["Widget"] == nil {
		t.Error("fragment's schema missing")
	}
	if doc.Tags.Get("widget") == nil || doc.Tags.Get("operations") == nil {
		t.Error("fragment's or shared tag missing")
	}
	// Shared codes first, then each fragment's in name order, each once.
	var want []any
	for _, e := range sharedErrors {
		want = append(want, e.Code)
	}
	want = append(want, "WIDGET_BENT", "BENT_AGAIN", "WIDGET_NOT_FOUND")
	got := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Enum
	if !slices.Equal(got, want) {
		t.Errorf("Error.error enum = %v, want %v", got, want)
	}
}

func TestDocumentDoesNotDependOnFragmentOrder(t *testing.T) {
	a := mustNew(t, widget(), codesOnly())
	b := mustNew(t, codesOnly(), widget())
	if !bytes.Equal(a.YAML(), b.YAML()) || !bytes.Equal(a.JSON(), b.JSON()) {
		t.Error("fragment order changes the document")
	}
}

func TestNewRejectsBadFragments(t *testing.T) {
	with := func(name, yaml string, errs ...*apperr.Error) Fragment {
		return Fragment{Name: name, YAML: []byte(yaml), Errors: errs}
	}
	tests := []struct {
		name      string
		fragments []Fragment
		want      string
	}{
		{"same path twice", []Fragment{widget(), with("copy", "paths:\n  /widget/{widgetId}: {}\n")},
			"path /widget/{widgetId} is defined by both copy and widget"},
		{"shared path", []Fragment{with("ops", "paths:\n  /health: {}\n")},
			"path /health is defined by both shared and ops"},
		{"shared schema", []Fragment{with("errs", "components:\n  schemas:\n    Error: {type: object}\n")},
			"schemas Error is defined by both shared and errs"},
		{"same tag twice", []Fragment{widget(), with("copy", "tags:\n  - name: widget\n")},
			"tag widget is defined by both copy and widget"},
		{"unknown top-level key", []Fragment{with("info", "info: {title: mine}\n")},
			"fragment info: top-level key info is not one of paths, components, tags"},
		{"not YAML", []Fragment{with("broken", "paths: [\n")}, "fragment broken:"},
		{"unnamed", []Fragment{with("", "")}, `fragment name "" is empty or not unique`},
		{"same name twice", []Fragment{codesOnly(), codesOnly()}, `fragment name "bender" is empty or not unique`},
		{"code not declared", []Fragment{with("widget", widgetYAML)},
			"GET /api/widget/{widgetId} response 404 names error code WIDGET_NOT_FOUND, which no fragment declares"},
		{"no correlation header", []Fragment{with("widget", strings.Replace(widgetYAML, `
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Widget'`, `
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Widget'`, 1), errWidgetNotFound)},
			"GET /api/widget/{widgetId} response 200 has no required X-Correlation-ID header"},
		{"dangling reference", []Fragment{with("widget", strings.Replace(widgetYAML, "schemas/Widget'", "schemas/Gadget'", 1), errWidgetNotFound)},
			"Gadget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.fragments)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEveryResponseDocumentsCorrelationID(t *testing.T) {
	doc := mustOpenAPI(t, mustNew(t, widget()))
	for key, op := range Operations(doc) {
		for status, resp := range op.Responses.Map() {
			if h := resp.Value.Headers["X-Correlation-ID"]; h == nil || (!h.Value.Required && status != "431") {
				t.Errorf("%s %s: no required X-Correlation-ID header", key, status)
			}
		}
	}
}

// TestSharedPartsDescribeThePlatformRoutes derives the operations from the
// document: the platform's own root routes and the shared paths must match.
func TestSharedPartsDescribeThePlatformRoutes(t *testing.T) {
	d := mustNew(t)
	e := gin.New()
	health.NewHandler(health.Params{}).Register(e)
	metrics.NewHandler(metrics.NewRegistry(), true).Register(e)
	NewHandler(d).Register(e)
	if err := CompareRoutes(mustOpenAPI(t, d), e.Routes()); err != nil {
		t.Error(err)
	}
}

func TestCompareRoutes(t *testing.T) {
	doc := mustOpenAPI(t, mustNew(t, widget()))
	platformRoutes := func(e *gin.Engine) {
		health.NewHandler(health.Params{}).Register(e)
		metrics.NewHandler(metrics.NewRegistry(), true).Register(e)
		NewHandler(mustNew(t)).Register(e)
	}
	noop := func(*gin.Context) {}
	tests := []struct {
		name   string
		routes func(api *gin.RouterGroup)
		want   []string
	}{
		{"every route documented", func(api *gin.RouterGroup) {
			api.GET("/widget/:widgetId", noop)
			api.GET("/widget/:widgetId/", noop)
		}, nil},
		{"undocumented route", func(api *gin.RouterGroup) {
			api.GET("/widget/:widgetId", noop)
			api.DELETE("/widget/:widgetId", noop)
		}, []string{"DELETE /api/widget/{widgetId} is served but not documented"}},
		{"documented but not served", func(*gin.RouterGroup) {},
			[]string{"GET /api/widget/{widgetId} is documented but not served"}},
		{"parameter renamed", func(api *gin.RouterGroup) { api.GET("/widget/:id", noop) }, []string{
			"GET /api/widget/{id} is served but not documented",
			"GET /api/widget/{widgetId} is documented but not served",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := gin.New()
			platformRoutes(e)
			tt.routes(e.Group("/api"))
			tt.routes(e.Group("/api/v1"))
			err := CompareRoutes(doc, e.Routes())
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("CompareRoutes: %v, want nil", err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("CompareRoutes: %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestCompareRoutesNeedsARouteForAPreflight(t *testing.T) {
	d := mustNew(t, widget())
	doc := mustOpenAPI(t, d)
	doc.Paths.Value("/widget/{widgetId}").Options = &openapi3.Operation{
		OperationID: "preflightWidget",
		Responses:   openapi3.NewResponses(),
	}
	e := gin.New()
	health.NewHandler(health.Params{}).Register(e)
	metrics.NewHandler(metrics.NewRegistry(), true).Register(e)
	NewHandler(d).Register(e)
	err := CompareRoutes(doc, e.Routes())
	if err == nil || !strings.Contains(err.Error(), "OPTIONS /api/widget/{widgetId} is documented but no route serves /api/widget/{widgetId}") {
		t.Errorf("CompareRoutes: %v", err)
	}
	e.GET("/api/widget/:widgetId", func(*gin.Context) {})
	e.GET("/api/v1/widget/:widgetId", func(*gin.Context) {})
	if err := CompareRoutes(doc, e.Routes()); err != nil {
		t.Errorf("CompareRoutes with the route: %v", err)
	}
}

// TestEveryAPIOperationIsServedUnderEachVersion: the document's servers
// are /api and /api/v1, so an operation served under one only is a
// mismatch; a later version's path names its own server.
func TestEveryAPIOperationIsServedUnderEachVersion(t *testing.T) {
	const v2 = `
  /v2/widget/{widgetId}:
    servers:
      - url: /api
    get:
      operationId: getWidgetV2
      parameters:
        - name: widgetId
          in: path
          required: true
          schema:
            type: string
      responses:
        '500':
          $ref: '#/components/responses/InternalError'
components:`
	d := mustNew(t, Fragment{Name: "widget", YAML: []byte(strings.Replace(widgetYAML, "\ncomponents:", v2, 1)), Errors: []*apperr.Error{errWidgetNotFound}})
	doc := mustOpenAPI(t, d)
	if got := slices.Sorted(maps.Keys(ServedOperations(doc))); !slices.Contains(got, "GET /api/v1/widget/{widgetId}") ||
		!slices.Contains(got, "GET /api/v2/widget/{widgetId}") || slices.Contains(got, "GET /api/v1/v2/widget/{widgetId}") {
		t.Errorf("served operations %q, want version 1 under /api and /api/v1, version 2 under /api/v2 only", got)
	}
	noop := func(*gin.Context) {}
	e := gin.New()
	health.NewHandler(health.Params{}).Register(e)
	metrics.NewHandler(metrics.NewRegistry(), true).Register(e)
	NewHandler(d).Register(e)
	e.GET("/api/widget/:widgetId", noop)
	e.GET("/api/v2/widget/:widgetId", noop)
	err := CompareRoutes(doc, e.Routes())
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/widget/{widgetId} is documented but not served") {
		t.Errorf("CompareRoutes without /api/v1: %v", err)
	}
	e.GET("/api/v1/widget/:widgetId", noop)
	if err := CompareRoutes(doc, e.Routes()); err != nil {
		t.Errorf("CompareRoutes: %v", err)
	}
}

func TestCheckServed(t *testing.T) {
	d := mustNew(t, widget())
	e := gin.New() // serves nothing the document lists
	for _, tt := range []struct {
		env     string
		wantErr bool
	}{
		{config.Development, true},
		{config.Test, true},
		{config.Production, false},
	} {
		t.Run(tt.env, func(t *testing.T) {
			src, err := config.Load(config.Options{Env: tt.env, Overrides: map[string]any{
				"database.url": "postgres://u@127.0.0.1:1/db",
			}})
			if err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			err = CheckServed(d, e, src, zerolog.New(&logged))
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkRoutesOnStart = %v, want error %t", err, tt.wantErr)
			}
			if !tt.wantErr && !strings.Contains(logged.String(), "is documented but not served") {
				t.Errorf("production logged %q, want the mismatch", logged.String())
			}
		})
	}
}

func TestHandlerServesDocument(t *testing.T) {
	d := mustNew(t, widget())
	r := newRouter(d)
	tests := []struct {
		path        string
		contentType string
	}{
		{YAMLPath, "application/yaml"},
		{JSONPath, "application/json"},
	}
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
			if served.Paths.Value("/widget/{widgetId}") == nil {
				t.Error("served document lacks the fragment's path")
			}
		})
	}
}

func TestJSONKeepsTheYAMLContent(t *testing.T) {
	js := mustNew(t, widget()).JSON()
	var fromJSON map[string]any
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if fromJSON["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", fromJSON["openapi"])
	}
	for _, name := range []string{`"X-Correlation-ID"`, `"correlation_id"`, `"WIDGET_NOT_FOUND"`} {
		if !strings.Contains(string(js), name) {
			t.Errorf("JSON lacks %s", name)
		}
	}
}

var assetRef = regexp.MustCompile(`(?i)<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"`)

func TestDocsPageUsesOnlyLocalAssets(t *testing.T) {
	r := newRouter(mustNew(t))
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
	r := gin.New()
	var recorded []error
	// The server's error middleware answers what the handler records.
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	})
	NewHandler(mustNew(t)).Register(r)
	for _, path := range []string{DocsPath + "/no-such-asset.js", DocsPath + "/index.html", DocsPath + "/swagger-ui.css.gz/x"} {
		recorded = nil
		w := get(r, path)
		if len(recorded) != 1 || !errors.Is(recorded[0], apperr.ErrNotFound) || w.Body.Len() != 0 {
			t.Errorf("GET %s recorded %v and wrote %q, want NOT_FOUND for the error middleware", path, recorded, w.Body.String())
		}
	}
}

func newRouter(d *Document) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	NewHandler(d).Register(r)
	return r
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// TestFragmentsNameTheSharedPieces builds a fragment from the shared
// pieces alone: the security schemes, the standard error responses, the
// paging parameters and headers. A module copies none of them.
func TestFragmentsNameTheSharedPieces(t *testing.T) {
	const lister = `
paths:
  /things:
    get:
      operationId: listThings
      security:
        - admin_key: []
      parameters:
        - $ref: '#/components/parameters/CorrelationId'
        - $ref: '#/components/parameters/Limit'
        - $ref: '#/components/parameters/Offset'
        - $ref: '#/components/parameters/After'
      responses:
        '200':
          description: A page of things.
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
            X-Total-Count:
              $ref: '#/components/headers/TotalCount'
            Link:
              $ref: '#/components/headers/Link'
        '400':
          $ref: '#/components/responses/InvalidParameter'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '429':
          $ref: '#/components/responses/RateLimited'
        '499':
          $ref: '#/components/responses/ClientClosedRequest'
        '503':
          $ref: '#/components/responses/ServiceUnavailable'
        '504':
          $ref: '#/components/responses/Timeout'
    put:
      operationId: putThings
      security:
        - api_key: []
      responses:
        '400':
          $ref: '#/components/responses/InvalidBody'
`
	doc := mustOpenAPI(t, mustNew(t, Fragment{Name: "things", YAML: []byte(lister)}))
	ops := Operations(doc)
	if len(ops["GET /api/things"].Responses.Map()) != 10 || ops["PUT /api/things"] == nil {
		t.Errorf("operations %v", slices.Sorted(maps.Keys(ops)))
	}
	for _, name := range []string{"api_key", "admin_key"} {
		if s := doc.Components.SecuritySchemes[name]; s == nil || s.Value.Name != "api_key" || s.Value.In != "header" {
			t.Errorf("security scheme %s: %+v, want the api_key header", name, s)
		}
	}
}

// TestFragmentsNameTheSharedPreflight: a fragment names the CORS preflight
// operation; the document writes it out at that path, made the path's own.
func TestFragmentsNameTheSharedPreflight(t *testing.T) {
	named := strings.Replace(widgetYAML, "  /widget/{widgetId}:\n", "  /widget/{widgetId}:\n    options:\n      $ref: '#/components/x-operations/Preflight'\n", 1)
	d := mustNew(t, Fragment{Name: "widget", YAML: []byte(named), Errors: []*apperr.Error{errWidgetNotFound}})
	doc := mustOpenAPI(t, d)
	op := Operations(doc)["OPTIONS /api/widget/{widgetId}"]
	if op == nil {
		t.Fatalf("no preflight operation: %v", slices.Sorted(maps.Keys(Operations(doc))))
	}
	if op.OperationID != "preflightWidgetByWidgetId" || !slices.Contains(op.Tags, "cors") {
		t.Errorf("operationId %q, tags %v", op.OperationID, op.Tags)
	}
	if p := op.Parameters.GetByInAndName("path", "widgetId"); p == nil {
		t.Error("the path's parameter is missing")
	}
	if p := op.Parameters.GetByInAndName("header", "Origin"); p == nil || !p.Required {
		t.Error("the Origin header is missing")
	}
	if r := op.Responses.Value("204"); r == nil || r.Ref != "#/components/responses/Preflight" {
		t.Errorf("204 response %+v, want the shared Preflight", r)
	}
	if bytes.Contains(d.YAML(), []byte("x-operations")) {
		t.Error("the served document keeps the shared operations' section")
	}
	bad := strings.Replace(named, "x-operations/Preflight", "x-operations/Prefight", 1)
	_, err := New([]Fragment{{Name: "widget", YAML: []byte(bad), Errors: []*apperr.Error{errWidgetNotFound}}})
	if err == nil || !strings.Contains(err.Error(), "widget: path /widget/{widgetId} options names #/components/x-operations/Prefight, which is not a shared operation") {
		t.Errorf("a misspelt name: %v", err)
	}
}
