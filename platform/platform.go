// Package platform assembles the shared infrastructure every module runs on:
// configuration, logging, metrics, the database and the API document. The HTTP server is added
// last by the composition root, after the modules, so that their start hooks
// (the database ping, the coupon set) finish before traffic is accepted.
package platform

import (
	"errors"
	"time"

	"go.uber.org/fx"

	"minikart/platform/admin"
	"minikart/platform/apidoc"
	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/platform/log"
	"minikart/platform/metrics"
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

// appSection decodes and validates the app section. Declaring it with
// config.Section also lets Source.ValidateAll report its keys with the
// others'.
var appSection = config.Section[AppConfig]("app")

// Options returns the platform's fx options over an already loaded source.
func Options(src *config.Source) (fx.Option, error) {
	app, err := appSection(src)
	if err != nil {
		return nil, err
	}
	return fx.Options(
		fx.Supply(src, app),
		fx.StartTimeout(app.StartTimeout),
		fx.StopTimeout(app.StopTimeout),
		log.Module,
		log.WithLogger,
		metrics.Module,
		admin.Module,
		db.Module,
		apidoc.Module,
	), nil
}
