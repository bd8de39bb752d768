// Package admin serves the operator listener: GET /metrics, GET /readyz and
// GET /health with every check's details (the public port may show only
// each check's state) and, when asked, the Go profiler (net/http/pprof), on
// a port of its own that is private
// (loopback by default). Keeping them off the public port means business
// figures stay private and a profile can be taken under real load without
// exposing it to the clients causing that load.
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/config"
	"minikart/platform/health"
	"minikart/platform/metrics"
)

// Config is the admin section.
type Config struct {
	Enabled bool   `mapstructure:"enabled"`
	Host    string `mapstructure:"host"`
	Port    int    `mapstructure:"port"`
	// PProf serves the profiler under /debug/pprof/ as well.
	PProf bool `mapstructure:"pprof"`
}

// Ports is the admin listener's port when it is enabled, which no other
// listener may share.
func (c Config) Ports() map[string]int {
	if !c.Enabled {
		return nil
	}
	return map[string]int{"port": c.Port}
}

// Validate checks the port, and only when the listener is wanted.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.Host == "" {
		errs = append(errs, config.Invalid("host", "must be set when admin is enabled"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, config.Invalid("port", "must be between 0 and 65535, got %d", c.Port))
	}
	return errors.Join(errs...)
}

// Module starts the admin listener when the admin section enables it.
var Module = fx.Module("admin",
	config.Section[Config]("admin"),
	fx.Provide(NewServer),
	fx.Invoke(func(*Server) {}),
)

// Server is the admin HTTP server; it does nothing when disabled.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Params are NewServer's dependencies; Health is there when the graph
// serves HTTP (operator commands start no health checks).
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    Config
	Registry  *prometheus.Registry
	Log       zerolog.Logger
	Health    *health.Handler `optional:"true"`
}

// NewServer listens in OnStart, so a port in use fails start-up like the
// public server does, and closes in OnStop.
func NewServer(p Params) *Server {
	lc, c, log := p.Lifecycle, p.Config, p.Log
	s := &Server{}
	if !c.Enabled {
		return s
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.HTTPHandler(p.Registry))
	if p.Health != nil {
		detailed := p.Health.Detailed()
		mux.Handle("GET "+health.ReadyPath, detailed)
		mux.Handle("GET "+health.HealthPath, detailed)
	}
	if c.PProf {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	// No write timeout: a CPU profile or trace streams for as long as asked.
	s.srv = &http.Server{
		Addr:              net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
	}
	log = log.With().Str("component", "admin").Logger()
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", s.srv.Addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("admin listen on %s: %w: another process has the port; stop it, or choose another port with admin.port (MINIKART_ADMIN_PORT)", s.srv.Addr, err)
			}
			if err != nil {
				return fmt.Errorf("admin listen on %s: %w", s.srv.Addr, err)
			}
			s.ln = ln
			log.Info().Str("addr", ln.Addr().String()).Msg("admin listening")
			go func() {
				if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error().Err(err).Msg("admin server stopped")
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// A profile in progress would hold Shutdown for its whole length;
			// nobody waits for it once the service stops.
			return s.srv.Close()
		},
	})
	return s
}

// Addr is the address the admin server listens on, or "" when disabled or
// not yet started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}
