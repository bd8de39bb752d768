package httpserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// CORSConfig lists the browser origins allowed to call the API.
type CORSConfig struct {
	// AllowedOrigins are exact origins ("https://shop.example"), or "*"
	// for any origin. Empty allows none.
	AllowedOrigins []string `mapstructure:"allowed_origins"`
	// AllowCredentials lets front ends send cookies and credentials
	// (fetch with credentials: "include"); never together with "*".
	AllowCredentials bool `mapstructure:"allow_credentials"`
	// AllowedHeaders and ExposedHeaders add to what the routes declare:
	// request headers a proxy or front end adds, response headers a proxy
	// sets.
	AllowedHeaders []string `mapstructure:"allowed_headers"`
	ExposedHeaders []string `mapstructure:"exposed_headers"`
}

// CORS is what a module's routes need from browsers on other origins: the
// request headers they read, the response headers scripts may read, and the
// methods they serve. A module contributes it with AsCORS.
type CORS struct {
	RequestHeaders []string
	ExposedHeaders []string
	Methods        []string
}

// AsCORS contributes c to the "cors" value group the server builds its
// CORS answers from.
func AsCORS(c CORS) fx.Option {
	return fx.Supply(fx.Annotated{Group: "cors", Target: c})
}

// platformCORS is what the server itself reads and sends on every route.
var platformCORS = CORS{
	RequestHeaders: []string{"Content-Type", CorrelationHeader},
	ExposedHeaders: []string{CorrelationHeader, "Retry-After"},
	Methods:        []string{http.MethodGet},
}

// corsPolicy answers preflights and marks responses to allowed origins
// readable. It is two handlers: headers runs before the per-IP rate limit,
// so a 429 stays readable by the page that caused it; preflight runs after
// it, so preflights are limited like any request.
type corsPolicy struct {
	anyOrigin   bool
	origins     []string
	credentials bool
	allowHdrs   string
	allowMeths  string
	exposeHdrs  string
}

func newCORS(c CORSConfig, declared []CORS) *corsPolicy {
	all := append([]CORS{platformCORS, {RequestHeaders: c.AllowedHeaders, ExposedHeaders: c.ExposedHeaders}}, declared...)
	var req, exp, meth []string
	for _, d := range all {
		req, exp, meth = append(req, d.RequestHeaders...), append(exp, d.ExposedHeaders...), append(meth, d.Methods...)
	}
	p := &corsPolicy{
		anyOrigin:   slices.Contains(c.AllowedOrigins, "*"),
		credentials: c.AllowCredentials,
		allowHdrs:   joinUnique(req),
		allowMeths:  joinUnique(meth),
		exposeHdrs:  joinUnique(exp),
	}
	for _, o := range c.AllowedOrigins {
		p.origins = append(p.origins, strings.TrimRight(o, "/"))
	}
	return p
}

// joinUnique lists names once each, compared without case (header names
// and, here, methods are declared in their usual case), in a stable order.
func joinUnique(names []string) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if k := strings.ToLower(strings.TrimSpace(n)); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, strings.TrimSpace(n))
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return strings.Join(out, ", ")
}

func (p *corsPolicy) allowed(origin string) bool {
	return p.anyOrigin || slices.ContainsFunc(p.origins, func(o string) bool { return strings.EqualFold(o, origin) })
}

func isPreflight(c *gin.Context) bool {
	return c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
}

// headers sets the CORS response headers for an allowed origin.
func (p *corsPolicy) headers(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	if !p.allowed(origin) {
		// No CORS headers: the browser refuses the call.
		c.Next()
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if isPreflight(c) {
		h.Set("Access-Control-Allow-Methods", p.allowMeths)
		h.Set("Access-Control-Allow-Headers", p.allowHdrs)
		h.Set("Access-Control-Max-Age", strconv.Itoa(600))
	} else {
		h.Set("Access-Control-Expose-Headers", p.exposeHdrs)
	}
	c.Next()
}

// preflight answers a preflight, before any authentication (browsers send
// them without credentials), with 204: whether the browser may go on is
// told by the headers set before.
func (p *corsPolicy) preflight(c *gin.Context) {
	if c.GetHeader("Origin") != "" && isPreflight(c) {
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}
