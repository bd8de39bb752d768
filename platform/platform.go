// Package platform assembles the shared infrastructure every module runs on:
// configuration, logging, metrics, tracing, api-key authentication and the database. The HTTP server is added
// last by the composition root, after the modules, so that their start hooks
// (the database ping, the data a module loads) finish before traffic is accepted.
package platform

import (
	"errors"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/fx"

	"minikart/platform/admin"
	"minikart/platform/auth"
	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/platform/log"
	"minikart/platform/metrics"
	"minikart/platform/tracing"
)

// AppConfig is the app section: lifecycle bounds for the whole graph.
type AppConfig struct {
	Env          string        `mapstructure:"env"`
	StartTimeout time.Duration `mapstructure:"start_timeout"`
	StopTimeout  time.Duration `mapstructure:"stop_timeout"`
}

// Validate checks the timeouts.
func (c AppConfig) Validate() error {
	return errors.Join(
		config.Positive("start_timeout", c.StartTimeout),
		config.Positive("stop_timeout", c.StopTimeout),
	)
}

// Options returns the platform's fx options over an already loaded source:
// the whole-configuration check, the app section, logging, metrics,
// tracing, the admin listener and the database.
func Options(src *config.Source) fx.Option {
	opts := []fx.Option{
		fx.Supply(src),
		config.Module,
		config.Section[AppConfig]("app"),
		log.Module,
		log.WithLogger,
		metrics.Module,
		tracing.Module,
		admin.Module,
		auth.Module,
		db.Module,
	}
	// fx takes its timeouts before the graph exists; when the app section is
	// invalid the graph reports it with every other problem.
	if app, ok := config.Peek[AppConfig](src, "app"); ok {
		opts = append(opts, fx.StartTimeout(app.StartTimeout), fx.StopTimeout(app.StopTimeout))
	}
	return fx.Options(opts...)
}

// Checks runs the checks of the whole configuration that need more than a
// section's own values (the files it names, the rules of production) and
// logs their warnings. The server includes it; operator commands do not, so
// that a command can write the files the configuration names.
var Checks = fx.Options(
	config.WithChecks,
	fx.Invoke(func(r config.Report, l zerolog.Logger) {
		for _, w := range r.Warnings {
			l.Warn().Str("component", "config").Msg(w)
		}
	}),
)
