// Package contract checks the served API document against the public
// kart-challenge contract that existing clients are written against.
package contract

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"

	"minikart/test/internal/apitest"
)

// referencePath is the public contract, kept in the repository as test data
// so that a clone with nothing beside it runs every test.
const referencePath = "testdata/kart-openapi.yaml"

// accepted lists, in this one place, the differences from the reference that
// we make on purpose. Each tightens what a client may send to the server:
// requests the reference allows but that can never be a valid order, and
// that the server answers with a 400 naming the field. Any other breaking
// change fails TestCompatibleWithReference.
var accepted = []change{
	{"request-body-became-required", "POST /api/order", ""},
	{"request-property-min-items-set", "POST /api/order", "items"},
	{"request-property-min-length-set", "POST /api/order", "items/items/productId"},
	{"request-property-min-set", "POST /api/order", "items/items/quantity"},
}

// raised are oasdiff checks made breaking here: the reference marks no
// response field required, so oasdiff would take the removal of any of them
// for harmless, yet clients read every one.
var raised = map[string]checker.Level{
	checker.ResponseOptionalPropertyRemovedId: checker.ERR,
}

// change names one oasdiff finding: its check, the operation it is in and,
// for a schema property, the property's path.
type change struct {
	id, operation, property string
}

func (c change) String() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", c.operation, c.id, c.property))
}

func TestCompatibleWithReference(t *testing.T) {
	ref := loadReference(t)
	ours := servedDocument(t)
	used := map[change]bool{}
	for _, c := range breakingChanges(t, ref, ours) {
		if slices.Contains(accepted, c.key) {
			used[c.key] = true
			continue
		}
		t.Errorf("breaking change not accepted: %s", c.text)
	}
	for _, a := range accepted {
		if !used[a] {
			t.Errorf("accepted change %s no longer happens: remove it from the list", a)
		}
	}
}

// TestCompatibilityCheckCatchesBreakingChanges proves the check looks where
// it must: each mutation of our document is a change a client of the
// reference would notice.
func TestCompatibilityCheckCatchesBreakingChanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(doc *openapi3.T)
		want   change
	}{
		{
			name:   "price loses its format",
			mutate: func(doc *openapi3.T) { schemaAt(doc, "Product", "price").Format = "" },
			want:   change{"response-property-type-changed", "GET /api/product", "items/price"},
		},
		{
			name:   "removed response field",
			mutate: func(doc *openapi3.T) { delete(doc.Components.Schemas["Product"].Value.Properties, "price") },
			want:   change{"response-optional-property-removed", "GET /api/product/{productId}", "price"},
		},
		{
			name:   "response field changed to string",
			mutate: func(doc *openapi3.T) { schemaAt(doc, "Order", "total").Type = &openapi3.Types{"string"} },
			want:   change{"response-property-type-changed", "POST /api/order", "total"},
		},
		{
			name: "request field newly required",
			mutate: func(doc *openapi3.T) {
				s := doc.Components.Schemas["OrderReq"].Value
				s.Required = append(s.Required, "couponCode")
			},
			want: change{"request-property-became-required", "POST /api/order", "couponCode"},
		},
		{
			name: "path parameter changed to boolean",
			mutate: func(doc *openapi3.T) {
				op := doc.Paths.Value("/api/product/{productId}").Get
				op.Parameters.GetByInAndName("path", "productId").Schema.Value.Type = &openapi3.Types{"boolean"}
			},
			want: change{"request-parameter-type-changed", "GET /api/product/{productId}", ""},
		},
		{
			name:   "removed operation",
			mutate: func(doc *openapi3.T) { doc.Paths.Value("/api/order").Post = nil },
			want:   change{"api-removed-without-deprecation", "POST /api/order", ""},
		},
		{
			name: "moved off the base path",
			mutate: func(doc *openapi3.T) {
				doc.Paths.Set("/v2/product", doc.Paths.Value("/api/product"))
				doc.Paths.Delete("/api/product")
			},
			want: change{"api-path-removed-without-deprecation", "GET /api/product", ""},
		},
		{
			name: "security scheme sent another way",
			mutate: func(doc *openapi3.T) {
				doc.Components.SecuritySchemes["api_key"].Value.In = "query"
			},
			want: change{"api-security-component-api-key-in-changed", "", ""},
		},
	}
	ref := loadReference(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := servedDocument(t)
			tt.mutate(doc)
			var got []string
			for _, c := range breakingChanges(t, ref, doc) {
				if c.key == tt.want {
					return
				}
				got = append(got, c.key.String())
			}
			t.Errorf("changes %q do not include %s", got, tt.want)
		})
	}
}

type finding struct {
	key  change
	text string
}

// breakingChanges runs oasdiff's breaking-change checks (levels WARN and
// ERR) from ref to ours over the operations under /api.
func breakingChanges(t *testing.T, ref, ours *openapi3.T) []finding {
	t.Helper()
	d, err := diff.Get(diff.NewConfig(func(c *diff.Config) { c.MatchPath = "^/api/" }), ref, ours)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	changes := checker.CheckBackwardCompatibility(
		checker.NewConfig(checker.GetAllChecks(), checker.WithSeverityLevels(raised)), d, &diff.OperationsSourcesMap{})
	l := checker.NewDefaultLocalizer()
	var out []finding
	for _, c := range changes {
		key := change{id: c.GetId(), operation: strings.TrimSpace(c.GetOperation() + " " + c.GetPath())}
		if args := c.GetArgs(); len(args) > 0 && strings.Contains(c.GetId(), "property") {
			key.property = fmt.Sprint(args[0])
		}
		out = append(out, finding{key: key, text: fmt.Sprintf("%s %s: %s (%s)", key.operation, c.GetId(), c.GetUncolorizedText(l), c.GetLevel())})
	}
	return out
}

// servedDocument is the application's document with every path made
// absolute, so that paths are compared as clients call them.
func servedDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := apitest.AppDocument(t).OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	absolutePaths(doc)
	return doc
}

func loadReference(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(referencePath)
	if err != nil {
		t.Fatalf("load reference %s: %v", referencePath, err)
	}
	absolutePaths(doc)
	return doc
}

// absolutePaths prefixes each path with its server's base path ("/product"
// under "https://host/api" becomes "/api/product") and drops the servers:
// oasdiff compares paths as written, and a path moved off /api must count
// as removed.
func absolutePaths(doc *openapi3.T) {
	paths := openapi3.NewPaths()
	for path, item := range doc.Paths.Map() {
		servers := doc.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		item.Servers = nil
		paths.Set(basePath(servers)+path, item)
	}
	doc.Paths = paths
	doc.Servers = nil
}

// basePath is the path of the first server's URL, without a trailing slash.
func basePath(servers openapi3.Servers) string {
	if len(servers) == 0 {
		return ""
	}
	u, err := url.Parse(servers[0].URL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// schemaAt returns a property's schema of a component schema.
func schemaAt(doc *openapi3.T, component, property string) *openapi3.Schema {
	return doc.Components.Schemas[component].Value.Properties[property].Value
}
