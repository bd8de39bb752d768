// Package health serves liveness, readiness and health: GET /livez answers
// while the process runs; GET /readyz and GET /health answer the verdict
// over every registered check, and /health adds what each check's Info
// says. The checks run in the background, once a RefreshInterval, so a
// probe costs no query however often a load balancer sends it; a check
// that changes state is logged with what is wrong. Modules contribute
// checks through the "health_checks" value group.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
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

// Paths the handler serves. Probes are exempt from rate limits: a load
// balancer probing fast from one address must never be refused.
const (
	LivePath   = "/livez"
	ReadyPath  = "/readyz"
	HealthPath = "/health"
)

// IsProbe reports whether path is one of the handler's.
func IsProbe(path string) bool {
	return path == LivePath || path == ReadyPath || path == HealthPath
}

// RefreshInterval is how often the checks run in the background: how stale
// a probe's answer can be, beyond the checks' own time. While the server is
// not ready they run ten times as often, so that readiness returns as soon
// as a dependency does (a coupon set loaded, the database back).
const RefreshInterval = time.Second

// nextRefresh is the wait after a refresh that found s.
func nextRefresh(s *snapshot) time.Duration {
	if !s.state.Serving() {
		return RefreshInterval / 10
	}
	return RefreshInterval
}

// Settings say what the public answers show.
type Settings struct {
	// PublicDetails shows what is wrong with each check and each check's
	// Info on the public answers; without it they say only each check's
	// state (schema versions, hints and file names stay on the detailed
	// answers and in the log).
	PublicDetails bool
}

// Handler serves /livez, /readyz and /health from the last refresh.
type Handler struct {
	checks   []Check
	settings Settings
	log      zerolog.Logger
	last     atomic.Pointer[snapshot]
	// mu lets one refresh run at a time and holds the results it compares
	// the next one with.
	mu       sync.Mutex
	previous map[string]Result
}

// snapshot is one refresh, its answers encoded once for every probe.
type snapshot struct {
	results map[string]Result
	state   State
	// answers by view: public or detailed, readiness or health.
	ready, health [2][]byte
}

const (
	public = iota
	detailed
)

// Params collects the registered checks and, where the graph has them, the
// settings, the logger and the lifecycle that runs the refreshes.
type Params struct {
	fx.In
	Checks    []Check        `group:"health_checks"`
	Settings  Settings       `optional:"true"`
	Log       zerolog.Logger `optional:"true"`
	Lifecycle fx.Lifecycle   `optional:"true"`
}

// NewHandler returns the handler over every registered check. The first
// probe refreshes; with a lifecycle the checks then run in the background
// from start to stop, without one (a test) never again.
func NewHandler(p Params) *Handler {
	h := &Handler{checks: p.Checks, settings: p.Settings,
		log: p.Log.With().Str("component", "health").Logger()}
	if p.Lifecycle != nil {
		var stop context.CancelFunc
		done := make(chan struct{})
		p.Lifecycle.Append(fx.Hook{
			OnStart: func(context.Context) error {
				var loop context.Context
				loop, stop = context.WithCancel(context.Background())
				go func() {
					defer close(done)
					t := time.NewTimer(RefreshInterval)
					defer t.Stop()
					for {
						select {
						case <-loop.Done():
							return
						case <-t.C:
							t.Reset(nextRefresh(h.refresh(loop)))
						}
					}
				}()
				return nil
			},
			OnStop: func(context.Context) error {
				stop()
				<-done
				return nil
			},
		})
	}
	return h
}

// Register mounts the three routes.
func (h *Handler) Register(r gin.IRouter) {
	r.GET(LivePath, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET(ReadyPath, func(c *gin.Context) { h.answer(c.Writer, c.Request, false, public) })
	r.GET(HealthPath, func(c *gin.Context) { h.answer(c.Writer, c.Request, true, public) })
}

// Detailed serves /readyz and /health with every check's details and Info,
// whatever the settings, for the operators' listener.
func (h *Handler) Detailed() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ReadyPath, func(w http.ResponseWriter, r *http.Request) { h.answer(w, r, false, detailed) })
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, r *http.Request) { h.answer(w, r, true, detailed) })
	return mux
}

// answer writes the last refresh's answer in the given view.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, full bool, view int) {
	s := h.last.Load()
	if s == nil {
		s = h.first(r.Context())
	}
	if view == public && h.settings.PublicDetails {
		view = detailed
	}
	body := s.ready[view]
	if full {
		body = s.health[view]
	}
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	w.WriteHeader(statusCode(s.state))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

var jsonContentType = []string{"application/json; charset=utf-8"}[:1:1]

// first is the first refresh, run by the first probe rather than at start:
// other start hooks (a coupon set loading) may still be running then, and
// their checks would read as not ready for a whole interval after them.
func (h *Handler) first(ctx context.Context) *snapshot {
	h.mu.Lock()
	s := h.last.Load()
	h.mu.Unlock()
	if s != nil {
		return s
	}
	return h.refresh(ctx)
}

// refresh runs every check now, makes their verdict what probes answer,
// logs each check whose result changed, and returns the new snapshot.
func (h *Handler) refresh(ctx context.Context) *snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	results, state := h.Run(ctx)
	for name, r := range results {
		prev, seen := h.previous[name]
		if (seen && prev == r) || (!seen && r.Status == OK) {
			continue
		}
		ev := h.log.Warn()
		if r.Status == OK {
			ev = h.log.Info()
		}
		ev.Str("check", name).Str("result", r.String()).Str("verdict", string(state)).Msg("health check changed")
	}
	h.previous = results
	s := &snapshot{results: results, state: state}
	verdict := "ready"
	if !state.Serving() {
		verdict = "not_ready"
	}
	states := make(map[string]Status, len(results))
	for name, r := range results {
		states[name] = r.Status
	}
	s.ready[public] = mustJSON(publicReport{Status: verdict, Checks: states})
	s.ready[detailed] = mustJSON(report{Status: verdict, Checks: results})
	s.health[public] = mustJSON(publicReport{Status: string(state), Checks: states})
	s.health[detailed] = mustJSON(report{Status: string(state), Checks: results, Info: h.info()})
	h.last.Store(s)
	return s
}

// mustJSON encodes reports, which hold only strings: it cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type report struct {
	Status string                       `json:"status"`
	Checks map[string]Result            `json:"checks"`
	Info   map[string]map[string]string `json:"info,omitempty"`
}

// publicReport says each check's state and nothing of what is wrong.
type publicReport struct {
	Status string            `json:"status"`
	Checks map[string]Status `json:"checks"`
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

// info gathers each check's Info.
func (h *Handler) info() map[string]map[string]string {
	var all map[string]map[string]string
	for _, ch := range h.checks {
		if ch.Info == nil {
			continue
		}
		if info := ch.Info(); len(info) > 0 {
			if all == nil {
				all = make(map[string]map[string]string)
			}
			all[ch.Name] = info
		}
	}
	return all
}

func statusCode(s State) int {
	if s.Serving() {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}
