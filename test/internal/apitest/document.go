package apitest

import (
	"sync"
	"testing"

	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform/apidoc"
	"minikart/platform/config"
	"minikart/test/internal/harness"
)

// AppDocument returns the document the real application serves, for tests
// that stand up a fake server.
func AppDocument(tb testing.TB) *apidoc.Document {
	tb.Helper()
	doc, err := appDocument()
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	return doc
}

// appDocument builds the graph once without starting it, so no database is
// needed: constructors do no I/O.
var appDocument = sync.OnceValues(func() (*apidoc.Document, error) {
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"database.url": harness.UnusedDatabaseURL,
	}})
	if err != nil {
		return nil, err
	}
	var doc *apidoc.Document
	app := fx.New(modules.App(src), fx.Populate(&doc), fx.NopLogger)
	return doc, app.Err()
})
