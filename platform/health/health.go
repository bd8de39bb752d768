// Package health serves liveness, readiness and health: GET /livez answers
// while the process runs, GET /readyz and GET /health run every registered
// check. Modules contribute checks through the "health_checks" value group.
package health

import (
	"context"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// Status is the state of one check.
type Status string

// Check states. Loading means not ready yet but expected to become ready.
// Degraded means working, but not as configured (a module still serves its
// previous state); it keeps the server ready and healthy.
const (
	OK          Status = "ok"
	Degraded    Status = "degraded"
	Loading     Status = "loading"
	Unavailable Status = "unavailable"
)

// Result is the outcome of one probe.
type Result struct {
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Check is a named probe of one dependency. Probe must be safe to call
// concurrently and honour ctx.
type Check struct {
	Name  string
	Probe func(ctx context.Context) Result
}

// AsCheck annotates a constructor so its Check joins the health_checks group.
func AsCheck(ctor any) any {
	return fx.Annotate(ctor, fx.ResultTags(`group:"health_checks"`))
}

// Handler serves /livez, /readyz and /health.
type Handler struct{ checks []Check }

// Params collects the registered checks.
type Params struct {
	fx.In
	Checks []Check `group:"health_checks"`
}

// NewHandler returns the handler over every registered check.
func NewHandler(p Params) *Handler { return &Handler{checks: p.Checks} }

// Register mounts the three routes.
func (h *Handler) Register(r gin.IRouter) {
	r.GET("/livez", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) { h.serve(c, "ready", "ready", "not_ready") })
	r.GET("/health", func(c *gin.Context) { h.serve(c, "ok", "degraded", "unavailable") })
}

type report struct {
	Status string            `json:"status"`
	Checks map[string]Result `json:"checks"`
}

// Run probes every check concurrently and reports whether all are OK or
// degraded.
func (h *Handler) Run(ctx context.Context) (map[string]Result, bool) {
	results := make(map[string]Result, len(h.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range h.checks {
		wg.Go(func() {
			res := ch.Probe(ctx)
			mu.Lock()
			results[ch.Name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	healthy := true
	for _, r := range results {
		healthy = healthy && (r.Status == OK || r.Status == Degraded)
	}
	return results, healthy
}

func (h *Handler) serve(c *gin.Context, good, degraded, bad string) {
	results, healthy := h.Run(c.Request.Context())
	if healthy {
		status := good
		for _, r := range results {
			if r.Status == Degraded {
				status = degraded
			}
		}
		c.JSON(http.StatusOK, report{Status: status, Checks: results})
		return
	}
	c.JSON(http.StatusServiceUnavailable, report{Status: bad, Checks: results})
}
