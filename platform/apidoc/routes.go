package apidoc

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"minikart/platform/config"
)

// CheckServed compares the document with the engine's routes. The HTTP
// server invokes it when the graph is built, so a mismatch stops start-up
// (and `config validate`) in development and test. Production serves anyway
// and logs the mismatch: a gap in the documentation is no reason to refuse
// traffic.
func CheckServed(doc *Document, e *gin.Engine, src *config.Source, log zerolog.Logger) error {
	t, err := doc.OpenAPI()
	if err != nil {
		return err
	}
	err = CompareRoutes(t, e.Routes())
	if err == nil || src.Env() != config.Production {
		return err
	}
	log.Error().Err(err).Msg("api document and routes differ")
	return nil
}

// CompareRoutes reports every route that is served but not documented and
// every operation that is documented but not served, under each server of
// its path (the API's are /api and /api/v1). A path is served with
// and without a trailing slash alike and documented once. Preflights
// (OPTIONS) are answered by the CORS middleware for any path, so a
// documented preflight needs only some route at its path.
func CompareRoutes(t *openapi3.T, routes gin.RoutesInfo) error {
	served := map[string]bool{}
	servedPaths := map[string]bool{}
	for _, r := range routes {
		p := ginPath(r.Path)
		served[r.Method+" "+p] = true
		servedPaths[p] = true
	}
	documented := map[string]bool{}
	var errs []error
	for key := range ServedOperations(t) {
		method, path, _ := strings.Cut(key, " ")
		documented[key] = true
		if method == http.MethodOptions {
			if !servedPaths[path] {
				errs = append(errs, fmt.Errorf("api document: %s is documented but no route serves %s", key, path))
			}
			continue
		}
		if !served[key] {
			errs = append(errs, fmt.Errorf("api document: %s is documented but not served", key))
		}
	}
	for key := range served {
		if !documented[key] {
			errs = append(errs, fmt.Errorf("api document: %s is served but not documented", key))
		}
	}
	return joinSorted(errs)
}

// ginPath writes a gin route path the way the document does:
// "/api/widget/:widgetId/" becomes "/api/widget/{widgetId}".
func ginPath(p string) string {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// Operations keys each operation by method and full path under its first
// server, the canonical base path: "/widget/{widgetId}" under servers
// "/api" and "/api/v1" is "GET /api/widget/{widgetId}". Tests walk every
// operation through it.
func Operations(t *openapi3.T) map[string]*openapi3.Operation {
	return operations(t, false)
}

// ServedOperations keys each operation by method and full path under every
// server that serves it: "/widget/{widgetId}" under servers "/api" and
// "/api/v1" is both "GET /api/widget/{widgetId}" and
// "GET /api/v1/widget/{widgetId}".
func ServedOperations(t *openapi3.T) map[string]*openapi3.Operation {
	return operations(t, true)
}

func operations(t *openapi3.T, everyServer bool) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range t.Paths.Map() {
		servers := t.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		bases := basePaths(servers)
		if !everyServer {
			bases = bases[:1]
		}
		for method, op := range item.Operations() {
			for _, base := range bases {
				ops[method+" "+base+path] = op
			}
		}
	}
	return ops
}

// basePaths are the paths of the servers' URLs, without a trailing slash,
// in order; "" when there is no server.
func basePaths(servers openapi3.Servers) []string {
	if len(servers) == 0 {
		return []string{""}
	}
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		u, err := url.Parse(s.URL)
		if err != nil {
			out = append(out, "")
			continue
		}
		out = append(out, strings.TrimSuffix(u.Path, "/"))
	}
	return out
}
