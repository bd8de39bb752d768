package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

func TestServer(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		serving bool
	}{
		{"disabled by default", Config{Host: "127.0.0.1", Port: 0}, false},
		{"enabled", Config{Enabled: true, Host: "127.0.0.1", Port: 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *Server
			app := fxtest.New(t,
				fx.Supply(tt.cfg, zerolog.Nop()),
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
			res, err := http.Get("http://" + s.Addr() + "/debug/pprof/")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
				t.Fatalf("GET /debug/pprof/ = %d %.200s", res.StatusCode, body)
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
