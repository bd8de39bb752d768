package catalog

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
	"minikart/platform/httpserver"
	"minikart/platform/paging"
)

type handler struct{ s *Service }

func newHandler(s *Service) *handler { return &handler{s: s} }

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
	q, err := parseListQuery(c, h.s.maxLimit)
	if err != nil {
		_ = c.Error(err)
		return
	}
	answer, total, next, ok, err := h.s.renderedList(c.Request.Context(), q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var products []Product
	if !ok {
		if products, total, next, err = h.s.List(c.Request.Context(), q); err != nil {
			_ = c.Error(err)
			return
		}
	}
	paging.SetTotal(c, total)
	if next != 0 {
		paging.SetNext(c, paging.Encode(cursorPosition{ID: next}))
	}
	if ok {
		answer.Serve(c)
		return
	}
	httpserver.JSON(c, http.StatusOK, products)
}

func (h *handler) get(c *gin.Context) {
	id, err := ParseProductID(c.Param("productId"))
	if err != nil {
		_ = c.Error(err)
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
