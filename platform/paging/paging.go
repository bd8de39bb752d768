// Package paging reads the page a list route is asked for and writes the
// headers that let a client walk the rest, the same way on every route:
// limit and offset (GET /api/product), or limit and an opaque cursor after
// (RFC 8288 Link rel="next"), and X-Total-Count. The matching parameters
// and headers of the API document are shared components (Limit, Offset,
// After, TotalCount, Link).
package paging

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
)

// Headers a list answer may carry; a module that serves lists to browsers
// on other origins names them in its httpserver.CORS ExposedHeaders.
const (
	// TotalCountHeader holds the number of items the list could page through.
	TotalCountHeader = "X-Total-Count"
	// LinkHeader holds the link to the next page, as <url>; rel="next".
	LinkHeader = "Link"
)

// Query parameters of a page.
const (
	limitParam  = "limit"
	offsetParam = "offset"
	afterParam  = "after"
)

// Page is an offset page: Limit items after skipping Offset.
type Page struct {
	Limit  int
	Offset int
}

// Cursor is a cursor page: Limit items after the position After names ("":
// from the start). After is as the client sent it; Decode reads it.
type Cursor struct {
	Limit int
	After string
}

// Parse reads limit (1..maxLimit, default maxLimit) and offset (0 or more,
// default 0), each at most once: a repeated parameter is ambiguous, so it is
// refused. Every bad parameter is named in one INVALID_PARAMETER error.
func Parse(c *gin.Context, maxLimit int) (Page, error) {
	var details []apperr.Detail
	p := Page{Limit: limit(c, maxLimit, maxLimit, &details)}
	if vals, ok := c.GetQueryArray(offsetParam); ok {
		n, err := strconv.Atoi(vals[0])
		if err != nil || n < 0 || len(vals) > 1 {
			details = append(details, apperr.Detail{Field: offsetParam, Message: "must be an integer of 0 or more", Value: apperr.Clip(vals[0])})
		}
		p.Offset = n
	}
	return p, invalid(details)
}

// ParseCursor reads limit (1..maxLimit, default defaultLimit) and after
// (the cursor of the previous page's Link, empty for the first page), each
// at most once. The cursor's content is checked by Decode.
func ParseCursor(c *gin.Context, defaultLimit, maxLimit int) (Cursor, error) {
	var details []apperr.Detail
	p := Cursor{Limit: limit(c, defaultLimit, maxLimit, &details)}
	if vals, ok := c.GetQueryArray(afterParam); ok {
		if len(vals) > 1 || vals[0] == "" || len(vals[0]) > maxCursorLen {
			details = append(details, badCursor(vals[0]))
		}
		p.After = vals[0]
	}
	return p, invalid(details)
}

func limit(c *gin.Context, def, max int, details *[]apperr.Detail) int {
	vals, ok := c.GetQueryArray(limitParam)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(vals[0])
	if err != nil || n < 1 || n > max || len(vals) > 1 {
		*details = append(*details, apperr.Detail{Field: limitParam, Message: "must be an integer from 1 to " + strconv.Itoa(max), Value: apperr.Clip(vals[0])})
	}
	return n
}

func invalid(details []apperr.Detail) error {
	if details == nil {
		return nil
	}
	return apperr.ErrInvalidParameter.Withf("invalid query parameters").WithDetails(details...)
}

// maxCursorLen bounds a cursor a client sends back; the server's own are
// far shorter.
const maxCursorLen = 512

func badCursor(raw string) apperr.Detail {
	return apperr.Detail{Field: afterParam, Message: "must be the cursor of a next link, unchanged", Value: apperr.Clip(raw)}
}

// Encode makes the opaque cursor for position v (any JSON value, such as
// the sort key of the last item of a page): base64url of its JSON, so it
// is safe in a query string and clients do not build one themselves.
func Encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("paging: cursor position is not JSON: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor Encode made into v; a cursor that is not one
// answers INVALID_PARAMETER naming after.
func Decode(after string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return apperr.ErrInvalidParameter.Withf("invalid query parameters").WithDetails(badCursor(after))
	}
	return nil
}

// SetTotal sets X-Total-Count.
func SetTotal(c *gin.Context, total int) {
	c.Header(TotalCountHeader, strconv.Itoa(total))
}

// SetNext sets Link to the request's own URL (path and query, relative, so
// it holds behind any proxy) with after replaced by next, as rel="next".
// The other parameters, filters and limit alike, are kept, so following the
// link continues the same list; offset is dropped, since the cursor names
// the position itself (an offset page's next link goes on by cursor).
func SetNext(c *gin.Context, next string) {
	q := c.Request.URL.Query()
	q.Set(afterParam, next)
	q.Del(offsetParam)
	u := url.URL{Path: c.Request.URL.Path, RawQuery: q.Encode()}
	c.Header(LinkHeader, "<"+u.String()+`>; rel="next"`)
}
