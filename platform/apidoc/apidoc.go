// Package apidoc holds the server's own OpenAPI 3.1 document and serves it:
// as YAML, as JSON and as a browsable Swagger UI page that needs no network.
//
// The document describes every route the server has and stays compatible with
// the public kart-challenge contract that existing clients are written against.
package apidoc

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"

	"minikart/platform/apperr"
)

//go:embed openapi.yaml
var spec []byte

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

// Spec returns the raw YAML of the document, as a copy the caller may keep.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Document loads and validates the document. Each call returns a fresh copy,
// so a caller may change it (a test may, to prove a checker catches a change).
func Document() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	return doc, nil
}

// JSON renders the document as JSON. It converts the YAML text rather than
// the loaded document so that the JSON keeps every key and their order.
func JSON() ([]byte, error) {
	out, err := yaml.YAMLToJSON(spec)
	if err != nil {
		return nil, fmt.Errorf("convert openapi document to json: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		return nil, fmt.Errorf("compact openapi json: %w", err)
	}
	return compact.Bytes(), nil
}

// Handler serves the document at YAMLPath and JSONPath and Swagger UI at
// DocsPath. Swagger UI's assets are embedded in the binary, so the page
// works without internet access.
type Handler struct {
	json []byte
	ui   http.Handler
}

// NewHandler validates the document and renders its JSON once, so a broken
// document stops startup instead of failing the first request.
func NewHandler() (*Handler, error) {
	if _, err := Document(); err != nil {
		return nil, err
	}
	js, err := JSON()
	if err != nil {
		return nil, err
	}
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "Mini-Kart API",
		SwaggerJSON: JSONPath,
		BasePath:    DocsPath + "/",
		SettingsUI: map[string]string{
			// Show the schemas too: they carry most of the contract.
			"defaultModelsExpandDepth": "1",
		},
	})
	return &Handler{json: js, ui: ui}, nil
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
	c.Data(http.StatusOK, "application/yaml", spec)
}

func (h *Handler) serveJSON(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", h.json)
}

// serveUI serves the page at DocsPath and its assets beneath it; the page
// names its assets by absolute paths under DocsPath. A path that names no
// asset is the server's JSON 404, not the asset server's plain-text one.
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
