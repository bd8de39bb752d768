package httpserver

import (
	"encoding/json"
	"net/http"
	"strconv"

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
