// Package health serves liveness, readiness and health: GET /livez answers
// while the process runs, GET /readyz and GET /health run every registered
// check, and /health adds what each check's Info says. Modules contribute checks through the "health_checks" value group.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// Status is the state of one check.
type Status string

// Check states. Degraded means serving with a part impaired (the server is
// still healthy enough to take traffic); Loading means not ready yet but
// expected to become ready; Unavailable means a dependency is down.
const (
	OK          Status = "ok"
	Degraded    Status = "degraded"
	Loading     Status = "loading"
	Unavailable Status = "unavailable"
)

// Result is the outcome of one probe: its state and, unless OK, what is
// wrong.
type Result struct {
	Status Status
	Error  string
}

// String is how a report shows the result: "ok", or the state and what is
// wrong ("unavailable: database not reachable").
func (r Result) String() string {
	switch {
	case r.Status == OK:
		return string(OK)
	case r.Error == "":
		return string(r.Status)
	}
	return string(r.Status) + ": " + r.Error
}

// MarshalJSON renders the result as its String.
func (r Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// Check is a named probe of one dependency. Probe must be safe to call
// concurrently and honour ctx.
type Check struct {
	Name  string
	Probe func(ctx context.Context) Result
	// Info, if set, describes what the dependency serves for /health (how
	// it was obtained, which implementation runs). It must be cheap, safe
	// for concurrent use and free of secrets and server paths.
	Info func() map[string]string
}

// AsCheck annotates a constructor so its Check joins the health_checks group.
func AsCheck(ctor any) any {
	return fx.Annotate(ctor, fx.ResultTags(`group:"health_checks"`))
}

// State is the verdict over every check.
type State string

// Verdicts: healthy when every check is OK, degraded when some are degraded
// and none worse (both answer 200 and count as ready), unhealthy otherwise
// (503).
const (
	Healthy   State = "healthy"
	Impaired  State = "degraded"
	Unhealthy State = "unhealthy"
)

// Serving reports whether the state takes traffic.
func (s State) Serving() bool { return s != Unhealthy }

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
	r.GET("/readyz", h.readyz)
	r.GET("/health", h.health)
}

type report struct {
	Status string                       `json:"status"`
	Checks map[string]Result            `json:"checks"`
	Info   map[string]map[string]string `json:"info,omitempty"`
}

// Run probes every check concurrently and gives the verdict over them.
func (h *Handler) Run(ctx context.Context) (map[string]Result, State) {
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
	state := Healthy
	for _, r := range results {
		switch r.Status {
		case OK:
		case Degraded:
			if state == Healthy {
				state = Impaired
			}
		default:
			state = Unhealthy
		}
	}
	return results, state
}

func (h *Handler) health(c *gin.Context) {
	results, state := h.Run(c.Request.Context())
	rep := report{Status: string(state), Checks: results}
	for _, ch := range h.checks {
		if ch.Info == nil {
			continue
		}
		if info := ch.Info(); len(info) > 0 {
			if rep.Info == nil {
				rep.Info = make(map[string]map[string]string)
			}
			rep.Info[ch.Name] = info
		}
	}
	c.JSON(statusCode(state), rep)
}

func (h *Handler) readyz(c *gin.Context) {
	results, state := h.Run(c.Request.Context())
	verdict := "ready"
	if !state.Serving() {
		verdict = "not_ready"
	}
	c.JSON(statusCode(state), report{Status: verdict, Checks: results})
}

func statusCode(s State) int {
	if s.Serving() {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}
