package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"minikart/modules/catalog"
	"minikart/modules/ordering"
	"minikart/modules/promo"
	"minikart/platform/apperr"
	"minikart/platform/auth"
	"minikart/platform/httpserver"
	"minikart/platform/paging"
)

type handler struct {
	menu    menuEditor
	orders  orderHistory
	auth    *auth.Authenticator
	cfg     Config
	log     zerolog.Logger
	metrics *metrics
	now     func() time.Time
}

func newHandler(m menuEditor, o orderHistory, a *auth.Authenticator, c Config, l zerolog.Logger, mt *metrics) *handler {
	return &handler{menu: m, orders: o, auth: a, cfg: c, log: l, metrics: mt, now: time.Now}
}

// Register maps the admin API under /admin, every route behind an admin
// key. Both forms of each path are served, as everywhere under /api.
func (h *handler) Register(r gin.IRouter) {
	g := r.Group("/admin", h.auth.Admin())
	both := func(method, path string, f gin.HandlerFunc) {
		g.Handle(method, path, f)
		g.Handle(method, path+"/", f)
	}
	both(http.MethodGet, "/products", h.listProducts)
	both(http.MethodPut, "/products/:productId", h.putProduct)
	both(http.MethodDelete, "/products/:productId", h.deleteProduct)
	both(http.MethodPut, "/products/:productId/image", h.putImage)
	both(http.MethodGet, "/orders", h.listOrders)
	both(http.MethodGet, "/orders/:orderId", h.getOrder)
	both(http.MethodGet, "/reports/totals", h.totals)
}

func (h *handler) listProducts(c *gin.Context) {
	ps, err := h.menu.Products(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	httpserver.JSON(c, http.StatusOK, ps)
}

func (h *handler) putProduct(c *gin.Context) {
	id, err := catalog.ParseProductID(c.Param("productId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	var fields map[string]any
	if err := httpserver.DecodeJSON(c, h.cfg.MaxBodyBytes, &fields); err != nil {
		_ = c.Error(err)
		return
	}
	p, outcome, err := h.menu.Put(c.Request.Context(), id, fields)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.audit(c, "put", id, outcome)
	status := http.StatusOK
	if outcome == catalog.Created {
		status = http.StatusCreated
	}
	httpserver.JSON(c, status, catalog.MenuProduct{Product: p})
}

func (h *handler) deleteProduct(c *gin.Context) {
	id, err := catalog.ParseProductID(c.Param("productId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	outcome, err := h.menu.Remove(c.Request.Context(), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.audit(c, "delete", id, outcome)
	c.Status(http.StatusNoContent)
}

// putImage makes the body the product's picture in every size. The body is
// read up to catalog.max_image_bytes (413 past it, before reading when the
// length is declared); its type is read from its bytes by catalog, never
// taken from Content-Type.
func (h *handler) putImage(c *gin.Context) {
	id, err := catalog.ParseProductID(c.Param("productId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	body, err := httpserver.ReadBody(c, h.menu.MaxImageBytes())
	if err != nil {
		_ = c.Error(err)
		return
	}
	p, outcome, err := h.menu.SetImage(c.Request.Context(), id, body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.audit(c, "image", id, outcome)
	httpserver.JSON(c, http.StatusOK, catalog.MenuProduct{Product: p})
}

// audit writes the audit line of a change and counts it. The line names
// the admin key id (never the key), what changed and how; it is written
// after the commit, so every line is a change that happened.
func (h *handler) audit(c *gin.Context, action string, productID int64, outcome catalog.Outcome) {
	p, _ := auth.PrincipalFrom(c.Request.Context())
	h.log.Info().
		Str("audit", "product."+action).
		Str("admin_key_id", p.ID).
		Int64("product_id", productID).
		Str("outcome", string(outcome)).
		Str("correlation_id", httpserver.CorrelationID(c)).
		Msg("admin change")
	h.metrics.changes.WithLabelValues("product", action, string(outcome)).Inc()
}

// listOrders answers one page, newest first, and a Link to the next page
// when there is one: a page is read one order longer than asked, so the
// last page has no link.
func (h *handler) listOrders(c *gin.Context) {
	page, err := paging.ParseCursor(c, h.cfg.DefaultLimit, h.cfg.MaxLimit)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var q apperr.Problems
	f := ordering.OrderFilter{
		From:       timeParam(c, "from", &q),
		To:         timeParam(c, "to", &q),
		CouponCode: promo.CanonicalCode(textParam(c, "coupon", &q)),
		KeyID:      textParam(c, "key", &q),
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		q.Add(apperr.ErrInvalidParameter, "to", "must be later than from", c.Query("to"))
	}
	var after *ordering.OrderPosition
	if page.After != "" {
		after = &ordering.OrderPosition{}
		if err := paging.Decode(page.After, after); err != nil {
			_ = c.Error(err)
			return
		}
	}
	if err := q.Err(); err != nil {
		_ = c.Error(err)
		return
	}
	orders, err := h.orders.List(c.Request.Context(), f, after, page.Limit+1)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if len(orders) > page.Limit {
		orders = orders[:page.Limit]
		paging.SetNext(c, paging.Encode(orders[len(orders)-1].Position()))
	}
	httpserver.JSON(c, http.StatusOK, orders)
}

func (h *handler) getOrder(c *gin.Context) {
	id, err := ordering.ParseOrderID(c.Param("orderId"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	o, err := h.orders.Get(c.Request.Context(), id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	httpserver.JSON(c, http.StatusOK, o)
}

// totalsResponse is a report: the range it covers and one entry per group.
type totalsResponse struct {
	By     ordering.TotalsBy `json:"by"`
	From   time.Time         `json:"from"`
	To     time.Time         `json:"to"`
	Totals []ordering.Total  `json:"totals"`
}

// totals sums the orders of [from, to) by day or by coupon. Without from,
// the range is the last report_days days to to (default now); it may span
// at most max_report_days, so a report reads a bounded range of the index.
func (h *handler) totals(c *gin.Context) {
	var q apperr.Problems
	by := ordering.TotalsBy(textParam(c, "by", &q))
	switch by {
	case "":
		by = ordering.ByDay
	case ordering.ByDay, ordering.ByCoupon:
	default:
		q.Add(apperr.ErrInvalidParameter, "by", "must be day or coupon", string(by))
	}
	from, to := timeParam(c, "from", &q), timeParam(c, "to", &q)
	if to.IsZero() {
		to = h.now().UTC()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -h.cfg.ReportDays)
	}
	switch {
	case !from.Before(to):
		q.Add(apperr.ErrInvalidParameter, "to", "must be later than from", c.Query("to"))
	case to.Sub(from) > time.Duration(h.cfg.MaxReportDays)*24*time.Hour:
		q.Add(apperr.ErrInvalidParameter, "from", "the range may span at most "+strconv.Itoa(h.cfg.MaxReportDays)+" days", c.Query("from"))
	}
	if err := q.Err(); err != nil {
		_ = c.Error(err)
		return
	}
	totals, err := h.orders.Totals(c.Request.Context(), by, from, to)
	if err != nil {
		_ = c.Error(err)
		return
	}
	httpserver.JSON(c, http.StatusOK, totalsResponse{By: by, From: from, To: to, Totals: totals})
}

// textParam reads an optional query parameter given at most once.
func textParam(c *gin.Context, name string, q *apperr.Problems) string {
	vals, ok := c.GetQueryArray(name)
	if !ok {
		return ""
	}
	v := strings.TrimSpace(vals[0])
	if len(vals) > 1 || v == "" || len(v) > 255 {
		q.Add(apperr.ErrInvalidParameter, name, "must be given once, 1 to 255 characters", vals[0])
		return ""
	}
	return v
}

// timeParam reads an optional RFC 3339 time (2026-01-31T00:00:00Z) or
// date (2026-01-31, midnight UTC).
func timeParam(c *gin.Context, name string, q *apperr.Problems) time.Time {
	v := textParam(c, name, q)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t
	}
	q.Add(apperr.ErrInvalidParameter, name, "must be an RFC 3339 time (2026-01-31T09:00:00Z) or a date (2026-01-31)", v)
	return time.Time{}
}
