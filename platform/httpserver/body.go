package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"

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
// what the bytes mean. It refuses, with INVALID_JSON naming the key, a body
// that names a key twice in one object: decoders disagree on which of the
// two counts (encoding/json keeps the last), so a check that reads the
// first would pass what the handler then acts on. A body that is not
// well-formed JSON is INVALID_JSON too; an empty one is returned as it is,
// for the route to say what it misses.
func ReadJSONBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := ReadBody(c, limit)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = apperr.ErrInvalidJSON.Withf("request body could not be read")
		}
		return nil, err
	}
	if err := checkJSON(body); err != nil {
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
	// ReadJSONBody has checked that it is one well-formed value.
	if trimmed[0] != '{' {
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

// decoders are reused: a decoder keeps its buffer, so checking a body
// allocates next to nothing.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// checkJSON refuses a malformed body, trailing data after the value, or an
// object with a key twice (keys compared decoded, so "a" and "\u0061" are
// the same key), naming where. Nesting deeper than 10000 levels is
// refused, as encoding/json refuses to decode it. Bytes that are not UTF-8
// inside strings pass, as encoding/json decodes them (to U+FFFD).
func checkJSON(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := decoders.Get().(*jsontext.Decoder)
	defer func() {
		dec.Reset(bytes.NewReader(nil))
		decoders.Put(dec)
	}()
	dec.Reset(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true))
	err := dec.SkipValue()
	if err == nil {
		if _, err = dec.ReadToken(); err == io.EOF {
			return nil
		}
	}
	var syntax *jsontext.SyntacticError
	if errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syntax) {
		return duplicateKey(dec, syntax.JSONPointer)
	}
	return apperr.ErrInvalidJSON
}

// duplicateKey is the INVALID_JSON answer naming the key that came twice
// and where, "items[0].productId": at names each level's member or index
// (the error's JSON pointer), and the decoder stopped on the key says
// whether each level is an object or an array.
func duplicateKey(dec *jsontext.Decoder, at jsontext.Pointer) error {
	var path strings.Builder
	level, key := 1, ""
	for tok := range at.Tokens() {
		kind, _ := dec.StackIndex(level)
		if kind == '[' {
			path.WriteString("[" + tok + "]")
		} else {
			if path.Len() > 0 {
				path.WriteByte('.')
			}
			path.WriteString(tok)
		}
		level++
		key = tok
	}
	field := apperr.Clip(path.String())
	return apperr.ErrInvalidJSON.
		Withf("request body has the key %q more than once", apperr.Clip(key)).
		WithDetails(apperr.Detail{Field: field, Message: "appears more than once in the same object"})
}
