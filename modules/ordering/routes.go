package ordering

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"minikart/platform/httpserver"
	"minikart/platform/ratelimit"
)

type handler struct {
	s         *Service
	keys      []string
	maxBody   int64
	rateLimit ratelimit.Config
}

func newHandler(s *Service, c Config) *handler {
	return &handler{s: s, keys: c.APIKeys, maxBody: c.MaxBodyBytes, rateLimit: c.RateLimit}
}

// Register maps the order routes, all behind the api key; both forms of
// each path are served directly, since proxies forward them with or
// without a trailing slash and a redirect would turn a POST into a GET.
func (h *handler) Register(r gin.IRouter) {
	g := r.Group("/order", requireAPIKey(h.keys),
		ratelimit.Middleware(h.rateLimit, func(c *gin.Context) string { return c.GetString(principalKey) }))
	g.POST("", h.place)
	g.POST("/", h.place)
	g.GET("/:orderId", h.get)
	g.GET("/:orderId/", h.get)
}

func (h *handler) place(c *gin.Context) {
	body, err := httpserver.ReadBody(c, h.maxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = ErrInvalidJSON.Withf("request body could not be read")
		}
		_ = c.Error(err)
		return
	}
	idem, err := idempotencyFrom(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	req, err := decodeOrder(body, h.s.limits)
	if err != nil {
		_ = c.Error(err)
		return
	}
	placed, err := h.s.Place(c.Request.Context(), req, idem)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if placed.Replayed {
		c.Header(ReplayedHeader, "true")
	}
	httpserver.RawJSON(c, http.StatusOK, placed.Body)
}

// IdempotencyHeader lets a client retry POST /api/order safely.
const IdempotencyHeader = "Idempotency-Key"

// ReplayedHeader marks an answer replayed for a retried Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// idempotencyFrom reads and checks the Idempotency-Key header: 1 to 255
// visible ASCII characters. Keys are scoped to the api key that sent them.
func idempotencyFrom(c *gin.Context) (Idempotency, error) {
	vals := c.Request.Header.Values(IdempotencyHeader)
	if len(vals) == 0 {
		return Idempotency{}, nil
	}
	key := vals[0]
	ok := len(vals) == 1 && len(key) >= 1 && len(key) <= 255
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] > ' ' && key[i] < 0x7f
	}
	if !ok {
		return Idempotency{}, ErrInvalidIdempotencyKey
	}
	return Idempotency{Scope: c.GetString(principalKey), Key: key}, nil
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
	httpserver.JSON(c, http.StatusOK, o)
}
