package ordering

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

type handler struct {
	s       *Service
	keys    []string
	maxBody int64
}

func newHandler(s *Service, c Config) *handler {
	return &handler{s: s, keys: c.APIKeys, maxBody: c.MaxBodyBytes}
}

// Register maps the order routes, all behind the api key; both forms of
// each path are served directly, since proxies forward them with or
// without a trailing slash and a redirect would turn a POST into a GET.
func (h *handler) Register(r gin.IRouter) {
	g := r.Group("/order", requireAPIKey(h.keys))
	g.POST("", h.place)
	g.POST("/", h.place)
	g.GET("/:orderId", h.get)
	g.GET("/:orderId/", h.get)
}

func (h *handler) place(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = ErrInvalidJSON.Withf("request body could not be read")
		}
		_ = c.Error(err)
		return
	}
	req, err := decodeOrder(body, h.s.limits)
	if err != nil {
		_ = c.Error(err)
		return
	}
	o, err := h.s.Place(c.Request.Context(), req)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, o)
}

func (h *handler) get(c *gin.Context) {
	id, err := parseOrderID(c.Param("orderId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	o, err := h.s.Get(c.Request.Context(), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, o)
}
