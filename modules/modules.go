// Package modules lists the business modules of Mini-Kart. Adding a module
// is one line here; nothing in platform/ or in other modules changes.
package modules

import (
	"go.uber.org/fx"

	"minikart/modules/admin"
	"minikart/modules/catalog"
	"minikart/modules/ordering"
	"minikart/modules/promo"
	"minikart/platform"
	"minikart/platform/config"
	"minikart/platform/httpserver"
)

// All is every business module, in any order: they meet only through the
// interfaces each consumer declares.
var All = fx.Options(
	catalog.Module,
	ordering.Module,
	promo.Module,
	admin.Module,
)

// App is the application's graph for src, composed once for main and the
// tests alike: the platform, every module, extra (a test's own module, fx
// options of a test), then the HTTP server, whose start hook must run after
// every module's.
func App(src *config.Source, extra ...fx.Option) fx.Option {
	return compose(src, httpserver.Module, extra)
}

// Commands is App for the operator commands: the same graph, from which
// the commands are populated, without the server's checks and start, which
// a command does not use.
func Commands(src *config.Source, extra ...fx.Option) fx.Option {
	return compose(src, httpserver.ForCommands, extra)
}

// compose is the graph of App and Commands, with server last.
func compose(src *config.Source, server fx.Option, extra []fx.Option) fx.Option {
	return fx.Options(platform.Options(src), All, fx.Options(extra...), server)
}
