package catalog

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
	"minikart/platform/httpserver"
)

type handler struct{ s *Service }

func newHandler(s *Service) *handler { return &handler{s: s} }

// TotalCountHeader carries the number of products a list could page through.
const TotalCountHeader = "X-Total-Count"

// Register maps the catalog's routes; both forms of each path are served
// directly, since proxies forward them with or without a trailing slash.
func (h *handler) Register(r gin.IRouter) {
	r.GET("/product", h.list)
	r.GET("/product/", h.list)
	r.GET("/product/:productId", h.get)
	r.GET("/product/:productId/", h.get)
	r.GET("/images/:file", h.image)
}

// image serves a product picture.
func (h *handler) image(c *gin.Context) {
	name := c.Param("file")
	if a, ok := builtinImages()[name]; ok {
		serveImage(c, a, builtinMaxAge, false)
		return
	}
	a, err := h.s.storedImage(c.Request.Context(), name)
	if err != nil {
		_ = c.Error(err)
		return
	}
	serveImage(c, a, storedMaxAge, true)
}

func (h *handler) list(c *gin.Context) {
	page, err := h.parsePage(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if body, total, ok, err := h.s.renderedList(c.Request.Context(), page); err != nil || ok {
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.Header(TotalCountHeader, strconv.Itoa(total))
		httpserver.RawJSON(c, http.StatusOK, body)
		return
	}
	products, total, err := h.s.List(c.Request.Context(), page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header(TotalCountHeader, strconv.Itoa(total))
	httpserver.JSON(c, http.StatusOK, products)
}

func (h *handler) get(c *gin.Context) {
	id, err := ParseProductID(c.Param("productId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	if body, ok, err := h.s.renderedProduct(c.Request.Context(), id); err != nil || ok {
		if err != nil {
			_ = c.Error(err)
			return
		}
		httpserver.RawJSON(c, http.StatusOK, body)
		return
	}
	p, err := h.s.Get(c.Request.Context(), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	httpserver.JSON(c, http.StatusOK, p)
}

// ParseProductID parses a product id path parameter: a decimal int64.
func ParseProductID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, apperr.ErrInvalidParameter.Withf("productId must be an integer").
			WithDetails(apperr.Detail{Field: "productId", Message: "must be a 64-bit integer", Value: apperr.Clip(raw)})
	}
	return id, nil
}

// parsePage reads limit (1..max_limit, default max_limit) and offset (>= 0),
// each at most once: a repeated parameter is ambiguous, so it is rejected.
func (h *handler) parsePage(c *gin.Context) (Page, error) {
	p := Page{Limit: h.s.maxLimit}
	var details []apperr.Detail
	if vals, ok := c.GetQueryArray("limit"); ok {
		raw := vals[0]
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > h.s.maxLimit || len(vals) > 1 {
			details = append(details, apperr.Detail{Field: "limit", Message: "must be an integer from 1 to " + strconv.Itoa(h.s.maxLimit), Value: apperr.Clip(raw)})
		}
		p.Limit = n
	}
	if vals, ok := c.GetQueryArray("offset"); ok {
		raw := vals[0]
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || len(vals) > 1 {
			details = append(details, apperr.Detail{Field: "offset", Message: "must be an integer of 0 or more", Value: apperr.Clip(raw)})
		}
		p.Offset = n
	}
	if details != nil {
		return p, apperr.ErrInvalidParameter.Withf("invalid query parameters").WithDetails(details...)
	}
	return p, nil
}
