package ordering

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
)

// APIKeyHeader is the header the contract names for the api key. Header
// names are case-insensitive, so Api_key and API_KEY work too.
const APIKeyHeader = "api_key"

// principalKey is the gin context key of the caller's identity.
const principalKey = "principal"

// requireAPIKey answers 401 without a key and 403 with a wrong one. Keys are
// compared as SHA-256 digests in constant time, so neither the content nor
// the length of a configured key leaks through timing.
func requireAPIKey(keys []string) gin.HandlerFunc {
	digests := make([][32]byte, 0, len(keys))
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			digests = append(digests, sha256.Sum256([]byte(k)))
		}
	}
	return func(c *gin.Context) {
		got := c.GetHeader(APIKeyHeader)
		if got == "" {
			_ = c.Error(apperr.ErrUnauthorized)
			c.Abort()
			return
		}
		d := sha256.Sum256([]byte(got))
		match := 0
		for i := range digests {
			match |= subtle.ConstantTimeCompare(d[:], digests[i][:])
		}
		if match != 1 {
			_ = c.Error(apperr.ErrForbidden)
			c.Abort()
			return
		}
		// The principal names the caller without the secret: a short digest
		// of the key scopes idempotency keys and rate limits.
		c.Set(principalKey, hex.EncodeToString(d[:8]))
		c.Next()
	}
}
