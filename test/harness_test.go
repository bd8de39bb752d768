package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/jmoiron/sqlx"
	"github.com/peterldowns/pgtestdb"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"minikart/migrations"
	"minikart/modules"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/platform/health"
	"minikart/platform/httpserver"
	"minikart/platform/log"
	"minikart/test/internal/apitest"
	"minikart/test/internal/harness"
)

// migrator lets pgtestdb build its template database with the project's
// own migration code, so the tests exercise exactly what production runs.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := migrations.FS.ReadFile(n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (migrator) Migrate(_ context.Context, _ *sql.DB, cfg pgtestdb.Config) error {
	return harness.Migrate(cfg.URL(), (*db.Migrator).Up)
}

// newDatabase returns the URL of a fresh, migrated database for this test.
func newDatabase(t testing.TB) string {
	t.Helper()
	return newDatabaseWith(t, migrator{})
}

// newDatabaseWith returns the URL of a fresh database that m prepared.
func newDatabaseWith(t testing.TB, m pgtestdb.Migrator) string {
	t.Helper()
	pass, _ := serverURL.User.Password()
	cfg := pgtestdb.Config{
		DriverName: "pgx",
		Host:       serverURL.Hostname(),
		Port:       serverURL.Port(),
		User:       serverURL.User.Username(),
		Password:   pass,
		Database:   strings.TrimPrefix(serverURL.Path, "/"),
		Options:    "sslmode=disable",
		// The app's pool may still hold idle connections when the test ends.
		ForceTerminateConnections: true,
	}
	return pgtestdb.Custom(t, cfg, m).URL()
}

// repoPath resolves a path relative to the repository root.
func repoPath(rel string) string {
	root, err := harness.RepoRoot()
	if err != nil {
		panic(err)
	}
	return filepath.Join(root, rel)
}

// sampleCoupons are the committed sample coupon files.
func sampleCoupons() []string {
	return []string{
		repoPath("data/coupons/couponbase1.gz"),
		repoPath("data/coupons/couponbase2.gz"),
		repoPath("data/coupons/couponbase3.gz"),
	}
}

// testApp is a running Mini-Kart on 127.0.0.1 with its own database.
type testApp struct {
	t      testing.TB
	client *http.Client // validates every exchange against the OpenAPI document
	base   string
	db     *sqlx.DB
	engine *gin.Engine
	fxapp  *fxtest.App
}

// startApp starts the real graph in the test environment on a free port.
// overrides adjust configuration keys, as an operator's YAML would.
func startApp(t testing.TB, overrides map[string]any) *testApp {
	t.Helper()
	a, err := tryStartApp(t, overrides)
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	return a
}

func tryStartApp(t testing.TB, overrides map[string]any) (*testApp, error) {
	t.Helper()
	return tryStartAppWith(t, overrides)
}

// tryStartAppWith starts the real graph with extra options beside the
// modules, such as a module defined by the test itself.
func tryStartAppWith(t testing.TB, overrides map[string]any, extra ...fx.Option) (*testApp, error) {
	t.Helper()
	o := map[string]any{
		"server.port":  0,
		"promo.files":  sampleCoupons(),
		"database.url": "",
	}
	for k, v := range overrides {
		o[k] = v
	}
	if o["database.url"] == "" {
		o["database.url"] = newDatabase(t)
	}
	src, err := config.Load(config.Options{Env: config.Test, Overrides: o})
	if err != nil {
		return nil, err
	}
	var srv *httpserver.Server
	var dbx *sqlx.DB
	var engine *gin.Engine
	app := fxtest.New(t, modules.App(src, extra...), fx.Populate(&srv, &dbx, &engine))
	if err := app.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(func() { app.RequireStop() })
	base := "http://" + srv.Addr()
	return &testApp{t: t, client: apitest.NewClient(t, base), base: base, db: dbx, engine: engine, fxapp: app}, nil
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorBody is the one error shape.
type errorBody struct {
	Error         string `json:"error"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlation_id"`
	Details       []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
		Value   string `json:"value"`
	} `json:"details"`
}

func (r response) errorCode(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	r.json(t, &e)
	if e.Error == "" || e.Message == "" || e.CorrelationID == "" {
		t.Fatalf("error body %s lacks error, message or correlation_id", r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q, want JSON", ct)
	}
	return e
}

// waitFor asks path until want accepts the answer: health answers from a
// refresh that runs once a health.RefreshInterval, so a change shows within
// a few of them.
func (a *testApp) waitFor(path string, want func(response) bool) response {
	a.t.Helper()
	deadline := time.Now().Add(5 * health.RefreshInterval)
	for {
		res := a.do(http.MethodGet, path, "")
		if want(res) || time.Now().After(deadline) {
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends a request; headers are name/value pairs.
func (a *testApp) do(method, path string, body string, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// order posts an order body with the test api key.
func (a *testApp) order(body string, headers ...string) response {
	a.t.Helper()
	return a.do(http.MethodPost, "/api/order", body, append([]string{"api_key", "apitest"}, headers...)...)
}

// count returns the number of rows in table.
func (a *testApp) count(table string) int {
	a.t.Helper()
	var n int
	if err := a.db.Get(&n, "SELECT count(*) FROM "+table); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(bytes.TrimSpace(b))
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// databaseName returns the name of the app's database.
func (a *testApp) databaseName() string {
	a.t.Helper()
	var name string
	if err := a.db.Get(&name, "SELECT current_database()"); err != nil {
		a.t.Fatal(err)
	}
	return name
}

// adminDB connects to the server's maintenance database as the superuser.
func adminDB(t *testing.T) *sqlx.DB {
	t.Helper()
	d, err := sqlx.Open("pgx", serverURL.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runCommand runs the operator command name as `minikart name args…` would:
// from the commands the graph's modules contribute, the graph built and not
// started.
func runCommand(t *testing.T, name string, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	return runCommandOn(t, "postgres://minikart@127.0.0.1:1/minikart", name, args, stdout, stderr)
}

// runCommandOn runs the operator command name against the database dbURL.
func runCommandOn(t *testing.T, dbURL, name string, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"database.url": dbURL,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return runCommandFrom(t, src, name, args, stdout, stderr)
}

// runCommandFrom runs `minikart name args…` on the commands' graph of src,
// as main does, and returns its exit status.
func runCommandFrom(t *testing.T, src *config.Source, name string, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	var cs cli.Commands
	if err := fx.New(fx.NopLogger, modules.Commands(src), log.ForCommands(stderr), fx.Populate(&cs)).Err(); err != nil {
		t.Fatal(err)
	}
	root := &cobra.Command{Use: "minikart"}
	root.AddCommand(cs.All...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cli.Execute(ctx, root, append([]string{name}, args...), stdout, stderr)
}
