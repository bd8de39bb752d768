package log

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestNewWritesJSON(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		service string
		logged  []string // levels written of debug, info, warn, error
	}{
		{"info level", Config{Level: "info", Format: "json", Service: "kart"}, "kart", []string{"info", "warn", "error"}},
		{"debug level", Config{Level: "debug", Format: "json", Service: "kart"}, "kart", []string{"debug", "info", "warn", "error"}},
		{"warn level", Config{Level: "warn", Format: "json", Service: "kart"}, "kart", []string{"warn", "error"}},
		{"an unknown level falls back to info", Config{Level: "loud", Format: "json"}, "minikart", []string{"info", "warn", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := New(tt.cfg, &buf)
			l.Debug().Msg("debug")
			l.Info().Msg("info")
			l.Warn().Msg("warn")
			l.Error().Msg("error")
			got := lines(t, &buf)
			if len(got) != len(tt.logged) {
				t.Fatalf("got %d lines, want %d: %s", len(got), len(tt.logged), buf.String())
			}
			for i, m := range got {
				if m["level"] != tt.logged[i] || m["message"] != tt.logged[i] || m["service"] != tt.service || m["time"] == nil {
					t.Errorf("line %d = %v", i, m)
				}
			}
		})
	}
}

func TestNewConsoleFormat(t *testing.T) {
	var buf bytes.Buffer
	l := New(Config{Level: "info", Format: "console", Service: "kart"}, &buf)
	l.Info().Str("widget", "42").Msg("placed")
	// The console writer colours its fields; compare the plain text.
	out := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(buf.String(), "")
	if json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Errorf("console output is JSON: %s", out)
	}
	for _, want := range []string{"INF", "placed", "service=kart", "widget=42"} {
		if !strings.Contains(out, want) {
			t.Errorf("console output %q lacks %q", out, want)
		}
	}
}

func TestFxLoggerLogsFailuresAtErrorLevel(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		event fxevent.Event
	}{
		{"start hook", &fxevent.OnStartExecuted{FunctionName: "f", Err: boom}},
		{"stop hook", &fxevent.OnStopExecuted{FunctionName: "f", Err: boom}},
		{"provide", &fxevent.Provided{Err: boom}},
		{"decorate", &fxevent.Decorated{Err: boom}},
		{"invoke", &fxevent.Invoked{FunctionName: "f", Err: boom}},
		{"rolling back", &fxevent.RollingBack{StartErr: boom}},
		{"rollback", &fxevent.RolledBack{Err: boom}},
		{"start", &fxevent.Started{Err: boom}},
		{"stop", &fxevent.Stopped{Err: boom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			(&fxLogger{l: zerolog.New(&buf)}).LogEvent(tt.event)
			got := lines(t, &buf)
			if len(got) != 1 || got[0]["level"] != "error" || got[0]["error"] != "boom" {
				t.Errorf("logged %v", got)
			}
		})
	}
}

func TestFxLoggerKeepsSuccessQuiet(t *testing.T) {
	tests := []struct {
		name  string
		event fxevent.Event
		level string // empty when nothing is logged
	}{
		{"start hook", &fxevent.OnStartExecuted{FunctionName: "f"}, "trace"},
		{"stop hook", &fxevent.OnStopExecuted{FunctionName: "f"}, "trace"},
		{"provide", &fxevent.Provided{}, ""},
		{"invoke", &fxevent.Invoked{FunctionName: "f"}, ""},
		{"started", &fxevent.Started{}, "info"},
		{"stopped", &fxevent.Stopped{}, "info"},
		{"stopping", &fxevent.Stopping{Signal: os.Interrupt}, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			(&fxLogger{l: zerolog.New(&buf)}).LogEvent(tt.event)
			got := lines(t, &buf)
			switch {
			case tt.level == "" && len(got) != 0:
				t.Errorf("logged %v, want nothing", got)
			case tt.level != "" && (len(got) != 1 || got[0]["level"] != tt.level):
				t.Errorf("logged %v, want one %s line", got, tt.level)
			}
		})
	}
}

func TestWithLoggerRoutesFxEvents(t *testing.T) {
	var buf bytes.Buffer
	app := fx.New(
		fx.Supply(zerolog.New(&buf)),
		WithLogger,
		fx.Invoke(func() error { return errors.New("wiring broke") }),
	)
	if app.Err() == nil {
		t.Fatal("app built without error")
	}
	var found bool
	for _, m := range lines(t, &buf) {
		if m["level"] == "error" && m["component"] == "fx" && strings.Contains(m["error"].(string), "wiring broke") {
			found = true
		}
	}
	if !found {
		t.Errorf("no fx error line in %s", buf.String())
	}
}

func TestStartedLineCarriesThePID(t *testing.T) {
	var buf bytes.Buffer
	(&fxLogger{l: zerolog.New(&buf)}).LogEvent(&fxevent.Started{})
	got := lines(t, &buf)
	if len(got) != 1 || got[0]["message"] != "started" || got[0]["pid"] != float64(os.Getpid()) {
		t.Errorf("logged %v, want started with pid %d", got, os.Getpid())
	}
}

// TestDevelopmentLogLeavesFrameworkStepsOut: at the development level
// (debug), fx's per-hook lines are not written; log.level trace brings them.
func TestDevelopmentLogLeavesFrameworkStepsOut(t *testing.T) {
	for level, want := range map[string]int{"debug": 0, "trace": 1} {
		var buf bytes.Buffer
		l := New(Config{Level: level, Format: "json"}, &buf)
		(&fxLogger{l: l}).LogEvent(&fxevent.OnStartExecuted{FunctionName: "f"})
		if got := len(lines(t, &buf)); got != want {
			t.Errorf("level %s: %d hook lines, want %d", level, got, want)
		}
	}
}

// TestConsoleColoursOnlyATerminal: console lines written to a file or a
// pipe carry no escape codes; to a terminal they are coloured.
func TestConsoleColoursOnlyATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	l := New(Config{Level: "info", Format: "console"}, f)
	l.Info().Str("k", "v").Msg("hello")
	f.Close()
	b, _ := os.ReadFile(f.Name())
	if !bytes.Contains(b, []byte("hello")) || bytes.Contains(b, []byte("\x1b[")) {
		t.Errorf("console line to a file: %q, want plain text", b)
	}
	var buf bytes.Buffer
	tl := build(Config{Level: "info", Format: "console"}, &buf, true)
	tl.Info().Msg("hello")
	if !bytes.Contains(buf.Bytes(), []byte("\x1b[")) {
		t.Errorf("console line to a terminal: %q, want colour", buf.Bytes())
	}
}
