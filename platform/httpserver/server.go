// Package httpserver owns the gin engine and the HTTP server: the middleware
// chain, the one place where errors become HTTP statuses, and the lifecycle
// (listen at start, drain at stop). Modules add routes through value groups.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/apidoc"
	"minikart/platform/apperr"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/gcheadroom"
	"minikart/platform/health"
	mklog "minikart/platform/log"
	"minikart/platform/metrics"
	"minikart/platform/ratelimit"
	"minikart/platform/tracing"
)

// Module provides the engine, the server and the API document assembled
// from the modules' fragments, checks that the document describes exactly
// the routes, and starts serving. Include it after the modules whose start
// hooks must finish before traffic arrives.
var Module = fx.Module("httpserver", provided,
	fx.Invoke(apidoc.CheckServed, func(*Server) {}, startGCHeadroom),
)

// startGCHeadroom lets the heap grow by at least server.gc_headroom_bytes
// past what is live before each collection while the server serves. Its
// start hook runs after the modules' (the server is added last), so a coupon
// build at start-up keeps to its own memory bound.
func startGCHeadroom(lc fx.Lifecycle, c Config) {
	var h *gcheadroom.Headroom
	lc.Append(fx.StartStopHook(
		func() { h = gcheadroom.Start(uint64(c.GCHeadroomBytes)) },
		func() { h.Stop() },
	))
}

// ForCommands is Module for the operator commands' graph: the same
// providers, nothing invoked, so a command builds no engine, document or
// server it does not use (minikart coupons build starts in 0.06 s instead
// of 0.16, and minikart healthcheck, which a container runs every few
// seconds, likewise).
var ForCommands = fx.Module("httpserver", provided)

// provided is what Module and ForCommands provide.
var provided = fx.Options(
	config.Section[Config]("server", config.Alias("port", "SERVER_PORT")),
	fx.Provide(
		NewEngine,
		NewServer,
		health.NewHandler,
		AsRootRoutes(func(h *health.Handler) *health.Handler { return h }),
		func(c Config) health.Settings { return health.Settings{PublicDetails: c.PublicHealthDetails} },
		AsRootRoutes(func(c Config, reg *prometheus.Registry) *metrics.Handler {
			return metrics.NewHandler(reg, c.PublicMetrics)
		}),
		apidoc.Assemble,
		AsRootRoutes(apidoc.NewHandler),
		cli.AsCommand(newHealthcheckCommand),
	),
)

// EngineParams are NewEngine's dependencies.
type EngineParams struct {
	fx.In
	Config     Config
	Log        zerolog.Logger
	Registerer prometheus.Registerer
	Routes     []Routes `group:"routes"`
	RootRoutes []Routes `group:"root_routes"`
	// CORS are the modules' declarations of the headers and methods their
	// routes use across origins.
	CORS []CORS `group:"cors"`
	// Tracing names each request's span by route and puts its ids in the
	// request's log lines; nil or off, it costs a request nothing.
	Tracing *tracing.Tracing
}

// NewEngine builds the gin engine: request scope (correlation id, origin,
// deadline) → request log and metrics → security headers → recovery → error
// mapping → request framing → CORS headers → per-IP rate limit (not on the
// health probes) → header limit → preflight answer, then the routes: the
// root routes at /, the modules' under APIPath and VersionPath(1) alike
// (mountRoutes).
// Recovery sits inside the request log and the metrics so that a panicking
// request is still logged and counted, with the 500 it was answered with.
// The rate limit sits before the preflight answer, so preflights count
// against it, and after the CORS headers, so a 429 stays readable.
func NewEngine(p EngineParams) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	m, err := newHTTPMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	e := gin.New()
	// One parse of server.trusted_proxies decides both whose X-Forwarded-For
	// gin believes for the client IP and whose X-Forwarded-Host and -Proto
	// are believed for the origin.
	trust, _ := newProxyTrust(p.Config.TrustedProxies)
	if err := e.SetTrustedProxies(trust.cidrs()); err != nil {
		return nil, fmt.Errorf("server.trusted_proxies: %w", err)
	}
	origins := originResolver{public: strings.TrimRight(p.Config.PublicURL, "/"), trust: trust}
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	declared := p.CORS
	if p.Tracing.Enabled() {
		// A browser may send a trace's context across origins and read
		// the answer's.
		declared = append(slices.Clip(declared), CORS{
			RequestHeaders: []string{"traceparent", "tracestate"},
			ExposedHeaders: []string{"traceparent"},
		})
	}
	cors := newCORS(p.Config.CORS, declared)
	e.Use(scope(p.Log, &origins, p.Config.RequestTimeout, p.Tracing.Enabled()), m.observe, securityHeaders, recovery,
		errorMiddleware, framingCheck, cors.headers,
		ratelimit.Middleware(p.Config.RateLimit, limitKey),
		headerLimit(p.Config.MaxHeaderBytes), cors.preflight)
	e.NoRoute(func(c *gin.Context) { WriteError(c, apperr.ErrNotFound) })
	e.NoMethod(func(c *gin.Context) { WriteError(c, apperr.ErrMethodNotAllowed) })
	if err := mountRoutes(e, p.RootRoutes, p.Routes); err != nil {
		return nil, err
	}
	return e, nil
}

// limitKey is the rate limit's key: the client IP, or none for the health
// probes, which a load balancer may send fast from one address and which
// cost no query (health answers them from its last refresh).
func limitKey(c *gin.Context) string {
	if health.IsProbe(c.Request.URL.Path) {
		return ""
	}
	return clientIP(c)
}

// headerLimit answers 431 HEADER_TOO_LARGE when the request line and
// headers exceed limit bytes; 0 leaves only the server's own limit.
func headerLimit(limit int) gin.HandlerFunc {
	return func(c *gin.Context) {
		if limit <= 0 {
			c.Next()
			return
		}
		n := len(c.Request.Method) + len(c.Request.RequestURI) + 12
		for k, vs := range c.Request.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > limit {
			_ = c.Error(apperr.ErrHeaderTooLarge.Withf("request headers exceed %d bytes", limit))
			c.Abort()
			return
		}
		c.Next()
	}
}

// Server is the running HTTP server.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// NewServer listens in OnStart, so a port in use fails start-up, and shuts
// down gracefully in OnStop, draining in-flight requests. It holds at most
// server.max_connections connections, server.max_connections_per_ip from
// one peer address (trusted proxies exempt). With tracing on, each request
// runs in a server span (tr may be nil: off).
func NewServer(lc fx.Lifecycle, c Config, e *gin.Engine, log zerolog.Logger, reg prometheus.Registerer, tr *tracing.Tracing) (*Server, error) {
	cm, err := newConnMetrics(reg)
	if err != nil {
		return nil, err
	}
	limits := newConnLimits(c, cm, log.With().Str("component", "httpserver").Logger())
	s := &Server{srv: &http.Server{
		Addr:              net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Handler:           tr.Handler(headAsGet(e)),
		ReadTimeout:       c.ReadTimeout,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		// The server's own limit answers in plain text; headerLimit answers
		// the configured limit in JSON, so the server's is set well above it.
		MaxHeaderBytes: max(4*c.MaxHeaderBytes, 64<<10),
		ErrorLog:       netHTTPLog(log),
		ConnContext:    framingContext,
	}}
	limits.answer = answerBelow(s.srv.Handler)
	log = log.With().Str("component", "httpserver").Logger()
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", s.srv.Addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("listen on %s: %w: another process has the port; stop it, or choose another port with server.port (MINIKART_SERVER_PORT or SERVER_PORT)", s.srv.Addr, err)
			}
			if err != nil {
				return fmt.Errorf("listen on %s: %w", s.srv.Addr, err)
			}
			s.ln = ln
			log.Info().Str("addr", ln.Addr().String()).Msg("listening")
			go func() {
				if err := s.srv.Serve(limitListener{Listener: ln, limits: limits}); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error().Err(err).Msg("server stopped")
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, c.ShutdownTimeout)
			defer cancel()
			log.Info().Msg("draining in-flight requests")
			if err := s.srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		},
	})
	return s, nil
}

// netHTTPLog is where net/http reports what it met below the handlers, one
// line a report, each clipped like any other value a client can shape.
func netHTTPLog(l zerolog.Logger) *stdlog.Logger {
	l = l.With().Str("component", "net/http").Logger()
	return stdlog.New(clippedWriter{&l}, "", 0)
}

type clippedWriter struct{ l *zerolog.Logger }

func (w clippedWriter) Write(p []byte) (int, error) {
	w.l.Log().Msg(mklog.Clip(strings.TrimSuffix(string(p), "\n")))
	return len(p), nil
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// headAsGet answers HEAD like GET on every GET route (gin routes HEAD
// separately): the request is routed as GET, and net/http, which still sees
// the client's HEAD, sends the headers (Content-Length, ETag, Cache-Control)
// and drops the body.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := *r
			get.Method = http.MethodGet
			r = &get
		}
		h.ServeHTTP(w, r)
	})
}
