package httpserver

import (
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

// NotModified prepares an answer whose body has the entity tag etag (a
// quoted string, the same for the same bytes on every instance): the
// client may keep it and revalidate. When the request's If-None-Match
// names the tag (or is *), it answers 304 Not Modified without a body and
// reports true; the caller then sends nothing more.
func NotModified(c *gin.Context, etag string) bool {
	h := c.Writer.Header()
	h[etagKey] = []string{etag}
	h[cacheKey] = noCache
	if !etagMatches(c.Request.Header.Get("If-None-Match"), etag) {
		return false
	}
	c.Status(http.StatusNotModified)
	return true
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
