package test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/auth"
	"minikart/platform/config"
	"minikart/platform/httpserver"
	"minikart/test/internal/harness"
)

// gadgets is a module nothing else in the repository knows: its config
// section, routes, API fragment, error code and headers all come from this
// file. The test shows that adding it to the graph is all it takes for it to
// be configured, served, documented and allowed cross-origin.

type gadgetConfig struct {
	Greeting   string `mapstructure:"greeting"`
	MaxGadgets int    `mapstructure:"max_gadgets"`
}

func (c gadgetConfig) Validate() error {
	if c.MaxGadgets < 1 {
		return config.Invalid("max_gadgets", "must be at least 1, got %d", c.MaxGadgets)
	}
	return nil
}

var errGadgetNotFound = apperr.New(apperr.NotFound, "GADGET_NOT_FOUND", "no such gadget")

const (
	gadgetTokenHeader = "X-Gadget-Token"
	gadgetCountHeader = "X-Gadget-Count"
)

type gadgetRoutes struct {
	cfg  gadgetConfig
	auth *auth.Authenticator
}

func newGadgetRoutes(cfg gadgetConfig, a *auth.Authenticator) *gadgetRoutes {
	return &gadgetRoutes{cfg: cfg, auth: a}
}

func (h *gadgetRoutes) Register(r gin.IRouter) {
	r.GET("/gadget/:gadgetId", h.auth.Required(), func(c *gin.Context) {
		id, err := strconv.Atoi(c.Param("gadgetId"))
		if err != nil || id < 1 || id > h.cfg.MaxGadgets {
			_ = c.Error(errGadgetNotFound)
			return
		}
		p, _ := auth.PrincipalFrom(c.Request.Context())
		c.Header(gadgetCountHeader, strconv.Itoa(h.cfg.MaxGadgets))
		c.JSON(http.StatusOK, gin.H{"id": id, "greeting": h.cfg.Greeting, "owner": p.ID})
	})
}

const gadgetYAML = `
tags:
  - name: gadget
    description: Gadgets.
paths:
  /gadget/{gadgetId}:
    options:
      $ref: '#/components/x-operations/Preflight'
    get:
      tags: [gadget]
      operationId: getGadget
      summary: One gadget
      parameters:
        - name: gadgetId
          in: path
          required: true
          schema: {type: integer}
      responses:
        '200':
          description: The gadget.
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Gadget'
        '404':
          description: No gadget has this id (` + "`GADGET_NOT_FOUND`" + `).
          headers:
            X-Correlation-ID:
              $ref: '#/components/headers/CorrelationId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Error'
components:
  schemas:
    Gadget:
      type: object
      required: [id, greeting, owner]
      properties:
        id: {type: integer}
        greeting: {type: string}
        owner: {type: string}
`

// gadgetModule is the whole module; withRoute=false drops its route to
// show that documentation without a route stops start-up.
func gadgetModule(withRoute bool) fx.Option {
	opts := []fx.Option{
		config.Section[gadgetConfig]("gadgets"),
		fx.Provide(fx.Private, newGadgetRoutes),
		httpserver.AsCORS(httpserver.CORS{
			RequestHeaders: []string{gadgetTokenHeader},
			ExposedHeaders: []string{gadgetCountHeader},
			Methods:        []string{http.MethodGet},
		}),
		apidoc.Provide(apidoc.Fragment{Name: "gadgets", YAML: []byte(gadgetYAML), Errors: []*apperr.Error{errGadgetNotFound}}),
	}
	if withRoute {
		opts = append(opts, fx.Provide(httpserver.AsRoutes(func(h *gadgetRoutes) *gadgetRoutes { return h })))
	}
	return fx.Module("gadgets", opts...)
}

func TestAModuleDefinedElsewhereJoinsTheApp(t *testing.T) {
	a, err := tryStartAppWith(t, map[string]any{
		"gadgets.greeting":            "hello",
		"gadgets.max_gadgets":         3,
		"server.cors.allowed_origins": []string{"https://shop.example"},
	}, gadgetModule(true))
	if err != nil {
		t.Fatalf("start with the gadgets module: %v", err)
	}
	plain := &http.Client{}
	get := func(path string, headers ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.base+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	t.Run("served and configured, with the platform's auth", func(t *testing.T) {
		res := get("/api/gadget/2", "api_key", "apitest")
		var g struct {
			ID       int    `json:"id"`
			Greeting string `json:"greeting"`
			Owner    string `json:"owner"`
		}
		if err := json.NewDecoder(res.Body).Decode(&g); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, decode %v", res.StatusCode, err)
		}
		if g.ID != 2 || g.Greeting != "hello" || g.Owner == "" {
			t.Errorf("gadget = %+v, want id 2, the configured greeting and the key id", g)
		}
		if res := get("/api/gadget/2"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("without api_key: status %d, want 401", res.StatusCode)
		}
		res = get("/api/gadget/9", "api_key", "apitest")
		var e errorBody
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil || res.StatusCode != http.StatusNotFound || e.Error != "GADGET_NOT_FOUND" {
			t.Errorf("past max_gadgets: status %d, error %q (%v), want 404 GADGET_NOT_FOUND", res.StatusCode, e.Error, err)
		}
	})

	t.Run("documented, with its error code", func(t *testing.T) {
		res := get("/openapi.json")
		var doc struct {
			Paths      map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if _, ok := doc.Paths["/gadget/{gadgetId}"]["get"]; !ok {
			t.Errorf("document paths lack GET /gadget/{gadgetId} (under the /api server)")
		}
		if _, ok := doc.Components.Schemas["Gadget"]; !ok {
			t.Errorf("document schemas lack Gadget")
		}
		if !strings.Contains(string(doc.Components.Schemas["Error"]), "GADGET_NOT_FOUND") {
			t.Errorf("Error schema does not list GADGET_NOT_FOUND")
		}
	})

	t.Run("CORS allows its header, method and exposed header", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, a.base+"/api/gadget/1", nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "x-gadget-token, api_key")
		res, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		if res.StatusCode != http.StatusNoContent || !strings.Contains(allowed, "x-gadget-token") {
			t.Errorf("preflight status %d, allow-headers %q; want 204 naming x-gadget-token", res.StatusCode, allowed)
		}
		res = get("/api/gadget/1", "api_key", "apitest", "Origin", "https://shop.example")
		if exposed := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers")); !strings.Contains(exposed, "x-gadget-count") {
			t.Errorf("expose-headers %q, want x-gadget-count", exposed)
		}
	})
}

// buildErr assembles the real graph with extra beside the modules, without
// starting it, and returns what fx reports.
func buildErr(t *testing.T, overrides map[string]any, extra fx.Option) error {
	t.Helper()
	o := map[string]any{"database.url": harness.UnusedDatabaseURL, "promo.files": sampleCoupons()}
	for k, v := range overrides {
		o[k] = v
	}
	src, err := config.Load(config.Options{Env: config.Test, Overrides: o})
	if err != nil {
		return err
	}
	return fx.New(fx.NopLogger, modules.App(src, extra)).Err()
}

func TestAModuleSectionIsValidatedLikeAnyOther(t *testing.T) {
	if err := buildErr(t, map[string]any{"gadgets.max_gadgets": 2}, gadgetModule(true)); err != nil {
		t.Fatalf("a valid gadgets section: %v", err)
	}
	err := buildErr(t, map[string]any{"gadgets.max_gadgets": 0}, gadgetModule(true))
	if err == nil || !strings.Contains(err.Error(), "gadgets.max_gadgets: must be at least 1") {
		t.Fatalf("error = %v, want one naming gadgets.max_gadgets", err)
	}
}

func TestDocumentationWithoutARouteStopsStartUp(t *testing.T) {
	err := buildErr(t, map[string]any{"gadgets.max_gadgets": 1}, gadgetModule(false))
	if err == nil || !strings.Contains(err.Error(), "GET /api/gadget/{gadgetId} is documented but not served") {
		t.Fatalf("error = %v, want the documented-but-not-served route named", err)
	}
}
