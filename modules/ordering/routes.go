package ordering

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"minikart/platform/auth"
	"minikart/platform/httpserver"
	"minikart/platform/ratelimit"
)

type handler struct {
	s          *Service
	auth       *auth.Authenticator
	requireKey bool
	maxBody    int64
	// limit is the per-caller rate limit, made once: the routes under /api
	// and /api/v1 draw on one budget.
	limit gin.HandlerFunc
}

func newHandler(s *Service, a *auth.Authenticator, c Config) *handler {
	return &handler{s: s, auth: a, requireKey: c.RequireAPIKey, maxBody: c.MaxBodyBytes,
		limit: ratelimit.Middleware(c.RateLimit, caller)}
}

// Register maps the order routes. Placing an order takes an api key unless
// require_api_key is off; reading one always does. Both forms of each path
// are served directly, since proxies forward them with or without a
// trailing slash and a redirect would turn a POST into a GET.
func (h *handler) Register(r gin.IRouter) {
	place, read := h.auth.Required(), h.auth.Required()
	if !h.requireKey {
		place = h.auth.Optional()
	}
	limit := h.limit
	g := r.Group("/order")
	g.POST("", place, limit, h.place)
	g.POST("/", place, limit, h.place)
	g.GET("/:orderId", read, limit, h.get)
	g.GET("/:orderId/", read, limit, h.get)
}

// keyID is the id of the api key that authenticated the request, "" for an
// anonymous one.
func keyID(c *gin.Context) string {
	p, _ := auth.PrincipalFrom(c.Request.Context())
	return p.ID
}

// caller names the client for rate limits and idempotency scopes: its api
// key id, or its IP for an anonymous request. The prefixes keep the two
// namespaces apart.
func caller(c *gin.Context) string {
	if id := keyID(c); id != "" {
		return "key:" + id
	}
	return "ip:" + c.ClientIP()
}

func (h *handler) place(c *gin.Context) {
	body, err := httpserver.ReadJSONBody(c, h.maxBody)
	if err != nil {
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
	placed, err := h.s.Place(c.Request.Context(), keyID(c), req, idem)
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
// visible ASCII characters. Keys are scoped to the caller that sent them:
// its api key id, or its IP when anonymous.
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
	return Idempotency{Scope: caller(c), Key: key}, nil
}

func (h *handler) get(c *gin.Context) {
	id, err := ParseOrderID(c.Param("orderId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	o, err := h.s.Get(c.Request.Context(), keyID(c), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	httpserver.JSON(c, http.StatusOK, o)
}
