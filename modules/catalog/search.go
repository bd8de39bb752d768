package catalog

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"minikart/platform/apperr"
	"minikart/platform/paging"
)

// listQuery is a page of the products on sale, in id order, among those
// that match its filters: Limit of them after skipping Offset, from the
// product after AfterID (0: the first).
type listQuery struct {
	paging.Page
	AfterID int64
	// Category is a category, compared case-insensitively; "" is any.
	Category string
	// Search is a piece of the name, compared with case and accents folded
	// (fold); "" is any.
	Search string
}

// filtered reports whether q narrows the catalogue.
func (q listQuery) filtered() bool { return q.Category != "" || q.Search != "" }

// Query parameters of GET /product beside the paging ones.
const (
	categoryParam = "category"
	searchParam   = "q"
)

// cursorPosition is what a next link's cursor holds: the id of the last
// product of the page before, so products added or removed meanwhile move
// no other product's place.
type cursorPosition struct {
	ID int64 `json:"id"`
}

// parseListQuery reads the page (limit with offset or after) and the
// filters; every bad parameter is named in one INVALID_PARAMETER error.
func parseListQuery(c *gin.Context, maxLimit int) (listQuery, error) {
	page, err := paging.Parse(c, maxLimit)
	if err != nil {
		return listQuery{}, err
	}
	cur, err := paging.ParseCursor(c, maxLimit, maxLimit)
	if err != nil {
		return listQuery{}, err
	}
	q := listQuery{Page: page}
	var details []apperr.Detail
	if cur.After != "" {
		var pos cursorPosition
		if err := paging.Decode(cur.After, &pos); err != nil {
			return listQuery{}, err
		}
		q.AfterID = max(pos.ID, 0)
		if page.Offset != 0 {
			details = append(details, apperr.Detail{Field: "offset", Message: "must be absent with after: a cursor names its own position", Value: c.Query("offset")})
		}
	}
	q.Category = filterParam(c, categoryParam, &details)
	q.Search = filterParam(c, searchParam, &details)
	if details != nil {
		return listQuery{}, apperr.ErrInvalidParameter.Withf("invalid query parameters").WithDetails(details...)
	}
	return q, nil
}

// filterParam reads a filter given at most once: printable text of at most
// maxNameLen characters, blanks around it ignored; absent or blank is "".
func filterParam(c *gin.Context, name string, details *[]apperr.Detail) string {
	vals, ok := c.GetQueryArray(name)
	if !ok {
		return ""
	}
	v := strings.TrimSpace(vals[0])
	if len(vals) > 1 || !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxNameLen ||
		strings.ContainsFunc(v, func(r rune) bool { return r < ' ' }) {
		*details = append(*details, apperr.Detail{Field: name, Message: "must be given once, as at most " + strconv.Itoa(maxNameLen) + " printable characters", Value: apperr.Clip(vals[0])})
		return ""
	}
	return v
}

// fold is a text as search compares it: accents removed and lower case,
// as catalog_fold (migration 0010) folds a name in the database.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if out, _, err := transform.String(t, s); err == nil {
		s = out
	}
	return strings.ToLower(s)
}

// likePattern is a LIKE pattern matching any text that contains s.
func likePattern(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}
