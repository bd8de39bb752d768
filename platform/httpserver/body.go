package httpserver

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ReadBody reads the whole request body, at most limit bytes. A declared
// Content-Length over the limit is refused before a byte is read, so the
// client gets 413 BODY_TOO_LARGE at once instead of after read_timeout; a
// body that turns out longer while it is read is refused the same way.
// Both come back as *http.MaxBytesError, which the error middleware answers
// with 413; any other error is the connection failing mid-body.
func ReadBody(c *gin.Context, limit int64) ([]byte, error) {
	if c.Request.ContentLength > limit {
		// Unread, the body is not worth keeping the connection for.
		c.Header("Connection", "close")
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
}
