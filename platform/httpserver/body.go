package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

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

// maxListedKeys is how many keys of one object are compared one by one
// before they go into a map: a handful in any real body, thousands in a
// body built to make the comparison quadratic.
const maxListedKeys = 16

// maxDepth is encoding/json's own nesting limit: what it would refuse to
// decode is refused here too, before the walk holds a level for each.
const maxDepth = 10000

// jsonLevel is one open object or array while checkJSON walks a body.
type jsonLevel struct {
	object  bool
	wantKey bool   // an object's next token is a key (or its end)
	key     string // an object's current key
	index   int    // an array's current element
	listed  []string
	keys    map[string]struct{}
}

// seen records key and reports whether the object already had it.
func (l *jsonLevel) seen(key string) bool {
	if l.keys != nil {
		if _, dup := l.keys[key]; dup {
			return true
		}
		l.keys[key] = struct{}{}
		return false
	}
	for _, k := range l.listed {
		if k == key {
			return true
		}
	}
	if len(l.listed) < maxListedKeys {
		l.listed = append(l.listed, key)
		return false
	}
	l.keys = make(map[string]struct{}, 2*maxListedKeys)
	for _, k := range l.listed {
		l.keys[k] = struct{}{}
	}
	l.keys[key] = struct{}{}
	return false
}

// checkJSON walks body token by token (keys compared decoded, so "a" and
// "\u0061" are the same key) and refuses a malformed body, trailing data
// after the value, or an object with a key twice, naming where.
func checkJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers are checked, not converted: 1e999 is JSON
	var stack []jsonLevel
	done := false
	for {
		tok, err := dec.Token()
		if err == io.EOF && len(stack) == 0 {
			return nil
		}
		if err != nil || done {
			return apperr.ErrInvalidJSON
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			top := &stack[n-1]
			if key, ok := tok.(string); ok {
				if top.seen(key) {
					return duplicateKey(stack, key)
				}
				top.key, top.wantKey = key, false
				continue
			}
			// Token allows only a key or the object's end here.
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == maxDepth {
				return apperr.ErrInvalidJSON.Withf("request body nests deeper than %d levels", maxDepth)
			}
			stack = append(stack, jsonLevel{object: tok == json.Delim('{'), wantKey: tok == json.Delim('{')})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: a scalar, or the container just closed.
		if len(stack) == 0 {
			done = true
			continue
		}
		if top := &stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
}

// duplicateKey is the INVALID_JSON answer naming the key that came twice
// and where: "items[0].productId".
func duplicateKey(stack []jsonLevel, key string) error {
	var path strings.Builder
	for i, l := range stack {
		switch {
		case i == len(stack)-1:
		case l.object:
			writeKey(&path, l.key)
		default:
			path.WriteString("[" + strconv.Itoa(l.index) + "]")
		}
	}
	writeKey(&path, key)
	field := apperr.Clip(path.String())
	return apperr.ErrInvalidJSON.
		Withf("request body has the key %q more than once", apperr.Clip(key)).
		WithDetails(apperr.Detail{Field: field, Message: "appears more than once in the same object"})
}

func writeKey(path *strings.Builder, key string) {
	if path.Len() > 0 {
		path.WriteByte('.')
	}
	path.WriteString(key)
}
