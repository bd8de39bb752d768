package httpserver

import (
	"encoding/json"
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
func RawJSON(c *gin.Context, status int, body []byte) {
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Data(status, "application/json; charset=utf-8", body)
}
