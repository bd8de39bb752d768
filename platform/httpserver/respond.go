package httpserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// JSON answers v as JSON with an exact Content-Length, so a body larger
// than net/http's small buffer is sent in one piece rather than chunked.
func JSON(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		_ = c.Error(err)
		return
	}
	RawJSON(c, status, body)
}

// RawJSON answers an already encoded JSON body with its Content-Length.
// It writes the headers into the map itself: gin's Data would allocate a
// renderer and a content-type slice per answer.
func RawJSON(c *gin.Context, status int, body []byte) {
	h := c.Writer.Header()
	h[contentTypeKey] = jsonContentType
	h[lengthKey] = []string{strconv.Itoa(len(body))}
	c.Status(status)
	if c.Request.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified {
		_, _ = c.Writer.Write(body)
	}
}

// noCache lets a client keep an answer and use it again once the server
// confirms it is current (If-None-Match), where API answers are otherwise
// not kept at all (no-store).
var noCache = []string{"no-cache"}[:1:1]

// PreparedJSON is a JSON answer encoded once and sent many times, with the
// headers made from its bytes ready to go into each answer without
// allocating: Content-Length, and an entity tag that is a hash of the
// bytes, so that every instance gives the same bytes the same tag.
type PreparedJSON struct {
	Body   []byte
	etag   []string
	length []string
}

// PrepareJSON prepares body, already encoded JSON.
func PrepareJSON(body []byte) *PreparedJSON {
	sum := sha256.Sum256(body)
	return &PreparedJSON{
		Body:   body,
		etag:   []string{`"` + hex.EncodeToString(sum[:16]) + `"`},
		length: []string{strconv.Itoa(len(body))},
	}
}

// ETag is the answer's entity tag, quoted.
func (p *PreparedJSON) ETag() string { return p.etag[0] }

// Serve answers 200 with the body, which the client may keep and
// revalidate (ETag, Cache-Control: no-cache); when the request's
// If-None-Match names the tag (or is *), 304 Not Modified without a body.
func (p *PreparedJSON) Serve(c *gin.Context) {
	h := c.Writer.Header()
	h[etagKey] = p.etag
	h[cacheKey] = noCache
	if etagMatches(c.Request.Header.Get("If-None-Match"), p.etag[0]) {
		c.Status(http.StatusNotModified)
		return
	}
	h[contentTypeKey] = jsonContentType
	h[lengthKey] = p.length
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		_, _ = c.Writer.Write(p.Body)
	}
}

// etagMatches reports whether an If-None-Match value names etag, compared
// weakly as RFC 9110 asks for that header: W/"x" matches "x".
func etagMatches(header, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for header != "" {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
