// Package log provides the service's zerolog logger and routes fx's own
// lifecycle events through it.
package log

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"minikart/platform/config"
)

// Config is the log section.
type Config struct {
	Level   string `mapstructure:"level"`
	Format  string `mapstructure:"format"`
	Service string `mapstructure:"service"`
	// FlushInterval batches the lines of a running server into one write
	// per interval; 0 writes every line as it is logged.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// BufferBytes bounds the lines waiting for the next flush: a line that
	// would exceed it writes the batch at once, in the logging goroutine.
	BufferBytes int `mapstructure:"buffer_bytes"`
}

// Validate checks the level, the format and the batching bounds.
func (c Config) Validate() error {
	var errs []error
	if c.FlushInterval < 0 || c.FlushInterval > time.Second {
		errs = append(errs, config.Invalid("flush_interval", "must be between 0s and 1s, got %s", c.FlushInterval))
	}
	if c.FlushInterval > 0 && (c.BufferBytes < 4096 || c.BufferBytes > 64<<20) {
		errs = append(errs, config.Invalid("buffer_bytes", "must be between 4096 and 67108864, got %d", c.BufferBytes))
	}
	return errors.Join(append(errs,
		config.OneOf("level", c.Level, "trace", "debug", "info", "warn", "error"),
		config.OneOf("format", c.Format, "json", "console"),
	)...)
}

// Module provides zerolog.Logger and makes fx log through it.
var Module = fx.Module("log",
	config.Section[Config](section, sectionOptions...),
	fx.Provide(newLogger),
)

const section = "log"

var sectionOptions = []config.SectionOption{config.Alias("level", "LOG_LEVEL")}

// newLogger builds the logger from the log section without waiting for the
// whole configuration to be valid: fx reports a bad configuration through
// this logger. A bad level falls back to info.
func newLogger(src *config.Source, lc fx.Lifecycle) zerolog.Logger {
	c, _ := config.Peek[Config](src, section, sectionOptions...)
	return build(c, batched(c, lc, os.Stdout), isTerminal(os.Stdout))
}

// batched returns out, wrapped in a batchWriter when flush_interval is set.
// Lines are batched only between the first start hook and the last stop
// hook (the logger is built first, so its hook runs first at start and last
// at stop): what is logged before start (a bad configuration), after stop
// and by commands that never start the application is written at once, and
// the stop, on SIGTERM or a failed start, writes every pending line before
// the process exits. Only a process killed outright loses lines: those of
// the last flush_interval, at most buffer_bytes.
func batched(c Config, lc fx.Lifecycle, out io.Writer) io.Writer {
	if c.FlushInterval <= 0 || c.BufferBytes <= 0 {
		return out
	}
	w := newBatchWriter(out, c.BufferBytes, c.FlushInterval)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			w.start()
			return nil
		},
		OnStop: func(context.Context) error { return w.stop() },
	})
	return w
}

// WithLogger makes fx report its own events through the service logger.
var WithLogger = fx.WithLogger(func(l zerolog.Logger) fxevent.Logger {
	return &fxLogger{l: l.With().Str("component", "fx").Logger()}
})

// New builds a logger writing JSON (or, for format console, human-readable
// lines) to w, with the service name on every line. Console lines are
// coloured only when w is a terminal: a file or a pipe gets plain text.
func New(c Config, w io.Writer) zerolog.Logger {
	return build(c, w, isTerminal(w))
}

// isTerminal reports whether w is a terminal a person reads.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func build(c Config, w io.Writer, colour bool) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	zerolog.DurationFieldUnit = time.Millisecond
	zerolog.DurationFieldInteger = false
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !colour}
	}
	service := c.Service
	if service == "" {
		service = "minikart"
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", service).Logger()
}

// fxLogger logs fx events: failures at error level; start, stop and the
// process id at info; each hook at trace, below the debug level of a
// development log, so that the framework's own steps show only when asked
// for (log.level: trace).
type fxLogger struct{ l zerolog.Logger }

// LogEvent implements fxevent.Logger.
func (f *fxLogger) LogEvent(event fxevent.Event) {
	switch e := event.(type) {
	case *fxevent.OnStartExecuted:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Str("callee", e.FunctionName).Msg("start hook failed")
			return
		}
		f.l.Trace().Str("callee", e.FunctionName).Dur("runtime", e.Runtime).Msg("start hook done")
	case *fxevent.OnStopExecuted:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Str("callee", e.FunctionName).Msg("stop hook failed")
			return
		}
		f.l.Trace().Str("callee", e.FunctionName).Dur("runtime", e.Runtime).Msg("stop hook done")
	case *fxevent.Provided:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Msg("provide failed")
		}
	case *fxevent.Decorated:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Msg("decorate failed")
		}
	case *fxevent.Invoked:
		var ce *config.Error
		switch {
		case errors.As(e.Err, &ce):
			f.l.Error().Strs("problems", ce.Problems).Msg("configuration invalid")
		case e.Err != nil:
			f.l.Error().Err(e.Err).Str("function", e.FunctionName).Msg("invoke failed")
		}
	case *fxevent.RollingBack:
		f.l.Error().Err(e.StartErr).Msg("start failed, rolling back")
	case *fxevent.RolledBack:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Msg("rollback failed")
		}
	case *fxevent.Started:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Msg("start failed")
			return
		}
		// The process id is what kill -HUP (new coupon files) and kill
		// -TERM (a clean stop) need.
		f.l.Info().Int("pid", os.Getpid()).Msg("started")
	case *fxevent.Stopped:
		if e.Err != nil {
			f.l.Error().Err(e.Err).Msg("stop failed")
			return
		}
		f.l.Info().Msg("stopped")
	case *fxevent.Stopping:
		f.l.Info().Str("signal", strings.ToLower(e.Signal.String())).Msg("stopping")
	}
}
