package httpserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORSConfig lists the browser origins allowed to call the API.
type CORSConfig struct {
	// AllowedOrigins are exact origins ("https://shop.example"), or "*"
	// for any origin. Empty allows none.
	AllowedOrigins []string `mapstructure:"allowed_origins"`
}

// The request headers browser front ends send, and the response headers
// their scripts may read.
const (
	corsAllowHeaders  = "Content-Type, api_key, Idempotency-Key, X-Correlation-ID"
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsExposeHeaders = "X-Correlation-ID, X-Total-Count, Retry-After, Idempotent-Replayed"
)

// cors answers preflights (204, before any authentication: browsers send
// them without api_key) and marks responses to allowed origins readable.
func cors(c CORSConfig) gin.HandlerFunc {
	anyOrigin := slices.Contains(c.AllowedOrigins, "*")
	allowed := func(origin string) bool {
		return anyOrigin || slices.ContainsFunc(c.AllowedOrigins, func(o string) bool {
			return strings.EqualFold(strings.TrimRight(o, "/"), origin)
		})
	}
	return func(ctx *gin.Context) {
		origin := ctx.GetHeader("Origin")
		if origin == "" {
			ctx.Next()
			return
		}
		h := ctx.Writer.Header()
		h.Add("Vary", "Origin")
		preflight := ctx.Request.Method == http.MethodOptions && ctx.GetHeader("Access-Control-Request-Method") != ""
		if !allowed(origin) {
			if preflight {
				// No CORS headers: the browser refuses the call.
				ctx.AbortWithStatus(http.StatusNoContent)
				return
			}
			ctx.Next()
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if preflight {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			ctx.AbortWithStatus(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		ctx.Next()
	}
}
