// Package apidoc assembles the server's OpenAPI 3.1 document and serves it:
// as YAML, as JSON and as a browsable Swagger UI page that needs no network.
//
// The document is built at start from the shared parts this package owns
// (the Error schema, the correlation header, the common responses and the
// operational endpoints) and one Fragment per module, contributed through a
// value group. The Error schema's code list is assembled from the codes the
// fragments declare. At start the document is compared with the routes the
// server really has, both ways.
package apidoc

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
	"go.uber.org/fx"

	"minikart/platform/apperr"
	"minikart/platform/ratelimit"
)

//go:embed shared.yaml
var shared []byte

// sharedErrors are the codes the platform itself answers with, whatever
// modules are present.
var sharedErrors = []*apperr.Error{
	apperr.ErrInvalidParameter,
	apperr.ErrInvalidJSON,
	apperr.ErrMissingField,
	apperr.ErrInvalidField,
	apperr.ErrUnauthorized,
	apperr.ErrForbidden,
	apperr.ErrNotFound,
	apperr.ErrMethodNotAllowed,
	apperr.ErrBodyTooLarge,
	ratelimit.ErrRateLimited,
	apperr.ErrHeaderTooLarge,
	apperr.ErrInvalidFraming,
	apperr.ErrUnsupportedTransferEncoding,
	apperr.ErrInternal,
	apperr.ErrServiceUnavailable,
	apperr.ErrTimeout,
	apperr.ErrClientClosed,
}

// Paths where Handler serves the document and its rendering, at the root
// rather than under the API base path.
const (
	// YAMLPath serves the document as written.
	YAMLPath = "/openapi.yaml"
	// JSONPath serves the document as JSON, which Swagger UI loads.
	JSONPath = "/openapi.json"
	// DocsPath serves Swagger UI; its assets live beneath it.
	DocsPath = "/docs"
)

// Fragment is one module's part of the document.
type Fragment struct {
	// Name names the contributor in error messages: the module's name.
	Name string
	// YAML may hold the top-level keys paths, components and tags, written
	// as in a whole OpenAPI 3.1 document. It may refer to the shared
	// components (#/components/responses/InternalError, ...) and to other
	// fragments' components. Paths are relative to the API base path /api
	// (and so to /api/v1, the document's second server). An operation may
	// name a shared one instead of being written out: `options: {$ref:
	// '#/components/x-operations/Preflight'}` is the CORS preflight, with
	// the path's parameters and an operationId made from the path.
	YAML []byte
	// Errors are the error codes the module's routes may answer with. They
	// join the Error schema's list of codes; every code a response of the
	// document names must be declared by some fragment.
	Errors []*apperr.Error
}

// fragmentGroup is the value group that collects the fragments.
const fragmentGroup = "apidoc_fragments"

// Provide contributes f to the served document. A module adds it to its
// fx.Module next to its routes.
func Provide(f Fragment) fx.Option {
	return fx.Supply(fx.Annotated{Group: fragmentGroup, Target: f})
}

// Fragments collects the contributed fragments.
type Fragments struct {
	fx.In
	All []Fragment `group:"apidoc_fragments"`
}

// Assemble builds the document from every contributed fragment; the HTTP
// server provides it.
func Assemble(f Fragments) (*Document, error) { return New(f.All) }

// Document is the assembled OpenAPI document.
type Document struct {
	yaml []byte
	json []byte
}

// New merges the shared parts with fragments into one document and checks
// it: it must load and validate as OpenAPI 3.1, no two fragments may define
// the same path, component or tag, every code a response names must be
// declared, and every response must carry X-Correlation-ID.
func New(fragments []Fragment) (*Document, error) {
	out, err := merge(fragments)
	if err != nil {
		return nil, err
	}
	d := &Document{yaml: out}
	t, err := d.OpenAPI()
	if err != nil {
		return nil, err
	}
	if err := checkErrorCodes(t); err != nil {
		return nil, err
	}
	if err := checkCorrelationHeaders(t); err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(out)
	if err != nil {
		return nil, fmt.Errorf("convert openapi document to json: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, js); err != nil {
		return nil, fmt.Errorf("compact openapi json: %w", err)
	}
	d.json = compact.Bytes()
	return d, nil
}

// YAML returns the document as served at YAMLPath, as a copy.
func (d *Document) YAML() []byte { return bytes.Clone(d.yaml) }

// JSON returns the document as served at JSONPath, as a copy. It is
// converted from the YAML text rather than from the loaded document so that
// it keeps every key and their order.
func (d *Document) JSON() []byte { return bytes.Clone(d.json) }

// OpenAPI loads and validates the document. Each call returns a fresh copy,
// so a caller may change it.
func (d *Document) OpenAPI() (*openapi3.T, error) {
	t, err := openapi3.NewLoader().LoadFromData(d.yaml)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	return t, nil
}

// merge adds each fragment's paths, components and tags to the shared
// document, fragments in name order so that the output does not depend on
// the value group's order, and fills in the Error schema's codes.
func merge(fragments []Fragment) ([]byte, error) {
	doc, err := parse("shared", shared)
	if err != nil {
		return nil, err
	}
	fragments = slices.SortedFunc(slices.Values(fragments), func(a, b Fragment) int { return cmp.Compare(a.Name, b.Name) })
	var paths yaml.MapSlice
	var tags []any
	components := mapAt(doc, "components")
	owner := map[string]string{} // "paths /x", "tags x", "schemas X" -> fragment
	claim := func(frag, what string) error {
		if prev, ok := owner[what]; ok {
			return fmt.Errorf("api document: %s is defined by both %s and %s", what, prev, frag)
		}
		owner[what] = frag
		return nil
	}
	for _, p := range mapAt(doc, "paths") {
		owner[fmt.Sprint("path ", p.Key)] = "shared"
	}
	for _, t := range listAt(doc, "tags") {
		owner[fmt.Sprint("tag ", mapValue(t, "name"))] = "shared"
	}
	for _, kind := range components {
		for _, c := range asMap(kind.Value) {
			owner[fmt.Sprintf("%v %v", kind.Key, c.Key)] = "shared"
		}
	}
	codes := codeList(sharedErrors)
	for i, f := range fragments {
		if f.Name == "" || (i > 0 && fragments[i-1].Name == f.Name) {
			return nil, fmt.Errorf("api document: fragment name %q is empty or not unique", f.Name)
		}
		frag, err := parse(f.Name, f.YAML)
		if err != nil {
			return nil, err
		}
		for _, item := range frag {
			switch item.Key {
			case "paths":
				for _, p := range asMap(item.Value) {
					if err := claim(f.Name, fmt.Sprint("path ", p.Key)); err != nil {
						return nil, err
					}
					paths = append(paths, p)
				}
			case "tags":
				list, _ := item.Value.([]any)
				for _, t := range list {
					if err := claim(f.Name, fmt.Sprint("tag ", mapValue(t, "name"))); err != nil {
						return nil, err
					}
					tags = append(tags, t)
				}
			case "components":
				for _, kind := range asMap(item.Value) {
					for _, c := range asMap(kind.Value) {
						if err := claim(f.Name, fmt.Sprintf("%v %v", kind.Key, c.Key)); err != nil {
							return nil, err
						}
					}
					components = appendTo(components, kind.Key, asMap(kind.Value))
				}
			default:
				return nil, fmt.Errorf("api document: fragment %s: top-level key %v is not one of paths, components, tags", f.Name, item.Key)
			}
		}
		for _, c := range codeList(f.Errors) {
			if !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	if err := expandSharedOperations(paths, components, owner); err != nil {
		return nil, err
	}
	components = without(components, sharedOperationsKey)
	doc = set(doc, "paths", append(paths, mapAt(doc, "paths")...))
	doc = set(doc, "tags", append(tags, listAt(doc, "tags")...))
	// The shared Error schema holds an empty enum for the codes: set changes
	// it in place, inside the nested mappings.
	errorCode := mapAt(mapAt(mapAt(mapAt(components, "schemas"), "Error"), "properties"), "error")
	if _, ok := mapValue(errorCode, "enum").([]any); !ok {
		return nil, errors.New("api document: shared Error schema has no error enum to fill")
	}
	set(errorCode, "enum", codes)
	doc = set(doc, "components", components)
	out, err := yaml.MarshalWithOptions(doc, yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, fmt.Errorf("api document: encode: %w", err)
	}
	return out, nil
}

// sharedOperationsKey holds, under the shared components, the operations
// a fragment names instead of writing them: the CORS preflight. It is an
// extension of this package's; the served document does not keep it.
const sharedOperationsKey = "x-operations"

// sharedOperationRef is how a fragment names a shared operation:
// `options: {$ref: '#/components/x-operations/Preflight'}`.
const sharedOperationRef = "#/components/" + sharedOperationsKey + "/"

// expandSharedOperations replaces each operation that names a shared one
// with a copy of it, made the path's own: an operationId from the path
// (preflight + ProductByProductId) and the path's parameters, taken from a
// sibling operation that declares them.
func expandSharedOperations(paths, components yaml.MapSlice, owner map[string]string) error {
	shared := mapAt(components, sharedOperationsKey)
	for _, p := range paths {
		item := asMap(p.Value)
		for i, op := range item {
			ref, ok := mapValue(op.Value, "$ref").(string)
			if !ok || len(asMap(op.Value)) != 1 {
				continue
			}
			name, ok := strings.CutPrefix(ref, sharedOperationRef)
			template := mapAt(shared, name)
			if !ok || template == nil {
				return fmt.Errorf("api document: %s: path %v %v names %s, which is not a shared operation (%s…)", owner[fmt.Sprint("path ", p.Key)], p.Key, op.Key, ref, sharedOperationRef)
			}
			expanded := slices.Clone(template)
			id, _ := mapValue(template, "operationId").(string)
			expanded = set(expanded, "operationId", id+operationSuffix(fmt.Sprint(p.Key)))
			params := append(pathParameters(item), listAt(template, "parameters")...)
			item[i].Value = set(expanded, "parameters", params)
		}
	}
	return nil
}

// operationSuffix turns a path into a name: "/order/{orderId}" is
// "OrderByOrderId".
func operationSuffix(path string) string {
	var b strings.Builder
	for _, seg := range strings.Split(path, "/") {
		if param, ok := strings.CutPrefix(seg, "{"); ok {
			b.WriteString("By")
			seg = strings.TrimSuffix(param, "}")
		}
		for _, word := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

// pathParameters are the path parameters a path item's operations declare,
// from the first operation that declares any; none when the path item
// declares them itself, for all its operations.
func pathParameters(item yaml.MapSlice) []any {
	if listAt(item, "parameters") != nil {
		return nil
	}
	for _, op := range item {
		var out []any
		for _, prm := range listAt(asMap(op.Value), "parameters") {
			if mapValue(prm, "in") == "path" {
				out = append(out, prm)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// without returns m less key.
func without(m yaml.MapSlice, key string) yaml.MapSlice {
	return slices.DeleteFunc(m, func(item yaml.MapItem) bool { return item.Key == key })
}

func parse(name string, data []byte) (yaml.MapSlice, error) {
	var m yaml.MapSlice
	if err := yaml.UnmarshalWithOptions(data, &m, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("api document: fragment %s: %w", name, err)
	}
	return m, nil
}

func codeList(errs []*apperr.Error) []any {
	out := make([]any, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Code)
	}
	return out
}

func asMap(v any) yaml.MapSlice {
	m, _ := v.(yaml.MapSlice)
	return m
}

// mapAt returns the mapping at key, or nil.
func mapAt(m yaml.MapSlice, key string) yaml.MapSlice {
	for _, item := range m {
		if item.Key == key {
			return asMap(item.Value)
		}
	}
	return nil
}

func listAt(m yaml.MapSlice, key string) []any {
	for _, item := range m {
		if item.Key == key {
			l, _ := item.Value.([]any)
			return l
		}
	}
	return nil
}

func mapValue(v any, key string) any {
	for _, item := range asMap(v) {
		if item.Key == key {
			return item.Value
		}
	}
	return nil
}

// set returns m with key set to v, in place when present, else appended.
func set(m yaml.MapSlice, key string, v any) yaml.MapSlice {
	for i, item := range m {
		if item.Key == key {
			m[i].Value = v
			return m
		}
	}
	return append(m, yaml.MapItem{Key: key, Value: v})
}

// appendTo returns m with items appended to the mapping at key.
func appendTo(m yaml.MapSlice, key any, items yaml.MapSlice) yaml.MapSlice {
	for i, item := range m {
		if item.Key == key {
			m[i].Value = append(asMap(item.Value), items...)
			return m
		}
	}
	return append(m, yaml.MapItem{Key: key, Value: items})
}

// checkErrorCodes requires every error code a response names to be in the
// Error schema's list, so a module cannot document a code it did not declare.
func checkErrorCodes(t *openapi3.T) error {
	declared := t.Components.Schemas["Error"].Value.Properties["error"].Value.Enum
	var errs []error
	for key, op := range Operations(t) {
		for status, resp := range op.Responses.Map() {
			for _, mt := range resp.Value.Content {
				if mt.Schema == nil {
					continue
				}
				for _, sub := range mt.Schema.Value.AllOf {
					code := sub.Value.Properties["error"]
					if code == nil {
						continue
					}
					for _, c := range code.Value.Enum {
						if !slices.Contains(declared, c) {
							errs = append(errs, fmt.Errorf("api document: %s response %s names error code %v, which no fragment declares", key, status, c))
						}
					}
				}
			}
		}
	}
	return joinSorted(errs)
}

// checkCorrelationHeaders requires every response to document the
// X-Correlation-ID header the server sets on each one, except 431: the HTTP
// server refuses the largest header blocks before the middleware that sets
// the id runs.
func checkCorrelationHeaders(t *openapi3.T) error {
	var errs []error
	for key, op := range Operations(t) {
		for status, resp := range op.Responses.Map() {
			if status == "431" {
				continue
			}
			h := resp.Value.Headers["X-Correlation-ID"]
			if h == nil || !h.Value.Required {
				errs = append(errs, fmt.Errorf("api document: %s response %s has no required X-Correlation-ID header", key, status))
			}
		}
	}
	return joinSorted(errs)
}

func joinSorted(errs []error) error {
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Handler serves the document at YAMLPath and JSONPath and Swagger UI at
// DocsPath. Swagger UI's assets are embedded in the binary, so the page
// works without internet access.
type Handler struct {
	doc *Document
	ui  http.Handler
}

// NewHandler serves doc.
func NewHandler(doc *Document) *Handler {
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "Mini-Kart API",
		SwaggerJSON: JSONPath,
		BasePath:    DocsPath + "/",
		SettingsUI: map[string]string{
			// Show the schemas too: they carry most of the contract.
			"defaultModelsExpandDepth": "1",
		},
	})
	return &Handler{doc: doc, ui: ui}
}

// Register adds the documentation routes. Mount it on the root router: the
// routes live outside the API base path, as the document says.
func (h *Handler) Register(r gin.IRouter) {
	r.GET(YAMLPath, h.serveYAML)
	r.GET(JSONPath, h.serveJSON)
	r.GET(DocsPath, h.serveUI)
	r.GET(DocsPath+"/*asset", h.serveUI)
}

func (h *Handler) serveYAML(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", h.doc.yaml)
}

func (h *Handler) serveJSON(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", h.doc.json)
}

// serveUI serves the page at DocsPath and its assets beneath it; the page
// names its assets by absolute paths under DocsPath.
func (h *Handler) serveUI(c *gin.Context) {
	if asset := strings.TrimPrefix(c.Param("asset"), "/"); asset != "" && !isAsset(asset) {
		_ = c.Error(apperr.ErrNotFound)
		return
	}
	h.ui.ServeHTTP(c.Writer, c.Request)
}

// isAsset reports whether Swagger UI's embedded files hold name, as written
// or gzipped (the asset server answers either).
func isAsset(name string) bool {
	for _, n := range []string{name, name + ".gz"} {
		if fi, err := fs.Stat(static.FS, n); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
