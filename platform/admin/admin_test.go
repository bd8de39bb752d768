package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"minikart/platform/health"
	"minikart/platform/metrics"
)

func TestServer(t *testing.T) {
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	tests := []struct {
		name    string
		cfg     Config
		serving bool
		pprof   bool
	}{
		{"disabled by default", Config{Host: "127.0.0.1", Port: 0}, false, false},
		{"enabled: metrics only", Config{Enabled: true, Host: "127.0.0.1", Port: 0}, true, false},
		{"enabled with the profiler", Config{Enabled: true, Host: "127.0.0.1", Port: 0, PProf: true}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			widgets := prometheus.NewCounter(prometheus.CounterOpts{Name: "widgets_made_total", Help: "Widgets made."})
			reg.MustRegister(widgets)
			widgets.Add(2)
			var s *Server
			app := fxtest.New(t,
				fx.Supply(tt.cfg, zerolog.Nop(), reg),
				fx.Provide(NewServer),
				fx.Populate(&s),
			)
			app.RequireStart()
			defer app.RequireStop()
			if !tt.serving {
				if s.Addr() != "" {
					t.Fatalf("disabled admin server listens on %s", s.Addr())
				}
				return
			}
			if status, body := get(t, "http://"+s.Addr()+"/metrics"); status != http.StatusOK || !strings.Contains(body, "widgets_made_total 2") {
				t.Errorf("GET /metrics = %d %.200s", status, body)
			}
			status, body := get(t, "http://"+s.Addr()+"/debug/pprof/")
			if tt.pprof && (status != http.StatusOK || !strings.Contains(body, "goroutine")) {
				t.Errorf("GET /debug/pprof/ = %d %.200s", status, body)
			}
			if !tt.pprof && status != http.StatusNotFound {
				t.Errorf("GET /debug/pprof/ without pprof = %d, want 404", status)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Enabled: true, Host: "127.0.0.1", Port: 6060}, ""},
		{Config{Enabled: true, Host: "", Port: 6060}, "host"},
		{Config{Enabled: true, Host: "127.0.0.1", Port: 70000}, "port"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Validate() = %v, want error about %q", tt.cfg, err, tt.want)
		}
	}
}

// TestServerAnswersHealthInDetail: the admin listener's /readyz and /health
// say what is wrong with each check, which the public port may not.
func TestServerAnswersHealthInDetail(t *testing.T) {
	failing := health.Check{Name: "schema", Probe: func(context.Context) health.Result {
		return health.Result{Status: health.Unavailable, Error: "run `minikart migrate up`"}
	}}
	var s *Server
	app := fxtest.New(t,
		fx.Supply(Config{Enabled: true, Host: "127.0.0.1"}, zerolog.Nop(), metrics.NewRegistry()),
		fx.Provide(NewServer, health.NewHandler, fx.Annotate(func() health.Check { return failing }, fx.ResultTags(`group:"health_checks"`))),
		fx.Populate(&s),
	)
	app.RequireStart()
	defer app.RequireStop()
	for _, path := range []string{"/readyz", "/health"} {
		res, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"schema":"unavailable: run `+"`minikart migrate up`"+`"`) {
			t.Errorf("admin %s = %d %s, want 503 with the schema's hint", path, res.StatusCode, body)
		}
	}
}
