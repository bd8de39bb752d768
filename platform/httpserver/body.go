package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
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

// ReadJSONBody is ReadBody for a route whose body is JSON: over limit it is
// 413 BODY_TOO_LARGE, and a body that cannot be read whole is
// INVALID_JSON. It accepts any content type; the route's parser decides
// what the bytes mean.
func ReadJSONBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := ReadBody(c, limit)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = apperr.ErrInvalidJSON.Withf("request body could not be read")
		}
		return nil, err
	}
	return body, nil
}

// DecodeJSON reads the body with ReadJSONBody and decodes one JSON object
// into v, numbers as json.Number where v leaves the type open, so a price
// keeps its decimals as written. Anything but exactly one object is
// INVALID_JSON; a member of the wrong type for v is INVALID_FIELD naming it.
func DecodeJSON(c *gin.Context, limit int64, v any) error {
	body, err := ReadJSONBody(c, limit)
	if err != nil {
		return err
	}
	return decodeObject(body, v)
}

func decodeObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return apperr.ErrInvalidJSON.Withf("request body is empty")
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return apperr.ErrInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return apperr.ErrInvalidField.WithDetails(apperr.Detail{Field: typ.Field, Message: "must be of type " + typ.Type.String()})
		}
		return apperr.ErrInvalidJSON
	}
	return nil
}
