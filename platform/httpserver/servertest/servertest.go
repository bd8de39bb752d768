// Package servertest builds the real HTTP engine (middleware, error mapping,
// metrics) around a module's routes for its handler tests.
package servertest

import (
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/httpserver"
)

// Engine serves routes through the real engine with a 5 s request timeout,
// logging to log and counting into a registry of its own.
func Engine(tb testing.TB, log zerolog.Logger, routes ...httpserver.Routes) *gin.Engine {
	tb.Helper()
	e, err := httpserver.NewEngine(httpserver.EngineParams{
		Config:     httpserver.Config{RequestTimeout: 5 * time.Second},
		Log:        log,
		Registerer: prometheus.NewRegistry(),
		Routes:     routes,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}
