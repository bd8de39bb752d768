// Command minikart is the Mini-Kart API server and its operator commands.
//
//	minikart [serve]                 run the server
//	minikart migrate up|down|version manage the database schema
//	minikart config print|validate   show or check the effective configuration
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/fx"

	"minikart/modules"
	"minikart/modules/promo"
	"minikart/platform"
	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/platform/httpserver"
	"minikart/platform/log"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: minikart [command]

commands:
  serve                      run the API server (default)
  migrate up|down|version    apply, roll back one, or show database migrations
  config print|validate      show the effective configuration (secrets masked) or check it
  healthcheck                exit 0 when the local server reports ready (for container health checks)
  coupons generate|build|check
                             make test coupon files, build the coupon index ahead of a deploy,
                             or check a code against it (coupons help for the flags)

environment: MINIKART_ENV (development|test|production), MINIKART_<SECTION>_<KEY>,
and DATABASE_URL, SERVER_PORT, API_KEY, LOG_LEVEL.
`

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		return serve(stderr)
	case "migrate":
		err = migrateCmd(args, stdout)
	case "config":
		err = configCmd(args, stdout)
	case "healthcheck":
		err = healthcheckCmd(stdout)
	case "coupons":
		return couponsCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// appOptions is the composition root: platform, the modules, then the HTTP
// server, whose start hook must run after every module's.
func appOptions(src *config.Source) (fx.Option, error) {
	plat, err := platform.Options(src)
	if err != nil {
		return nil, err
	}
	return fx.Options(plat, modules.All, httpserver.Module), nil
}

func serve(stderr io.Writer) int {
	src, err := config.Load(config.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	if err := src.ValidateAll(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	opts, err := appOptions(src)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	app := fx.New(opts)
	if err := app.Err(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		fmt.Fprintln(stderr, "error: start:", err)
		return 1
	}
	sig := <-app.Wait()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		fmt.Fprintln(stderr, "error: stop:", err)
		return 1
	}
	return sig.ExitCode
}

func migrateCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: minikart migrate up|down|version")
	}
	src, err := config.Load(config.Options{})
	if err != nil {
		return err
	}
	var dbc db.Config
	if err := src.Decode("database", &dbc); err != nil {
		return err
	}
	var lc log.Config
	if err := src.Decode("log", &lc); err != nil {
		return err
	}
	logger := log.New(lc, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := db.Open(dbc)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.PingWithRetry(ctx, pool, dbc.StartDeadline, logger); err != nil {
		return err
	}
	mg, err := db.NewMigrator(stdlib.OpenDBFromPool(pool))
	if err != nil {
		return err
	}
	defer mg.Close()
	switch args[0] {
	case "up":
		err = mg.Up()
	case "down":
		err = mg.Down()
	case "version":
	default:
		return fmt.Errorf("unknown migrate command %q (want up, down or version)", args[0])
	}
	if err != nil {
		return err
	}
	v, dirty, err := mg.Version()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d dirty %t\n", v, dirty)
	return nil
}

func configCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: minikart config print|validate")
	}
	src, err := config.Load(config.Options{})
	if err != nil {
		return err
	}
	switch args[0] {
	case "print":
		fmt.Fprintf(stdout, "# environment: %s\n", src.Env())
		for _, kv := range src.Effective() {
			fmt.Fprintf(stdout, "%s = %s\n", kv.Key, kv.Value)
		}
		return nil
	case "validate":
		if err := src.ValidateAll(); err != nil {
			return err
		}
		opts, err := appOptions(src)
		if err != nil {
			return err
		}
		// Building the graph runs every constructor, and so every section's
		// Validate, without starting anything.
		if err := fx.New(opts, fx.NopLogger).Err(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "configuration for %s is valid\n", src.Env())
		return nil
	}
	return fmt.Errorf("unknown config command %q (want print or validate)", args[0])
}

// healthcheckCmd asks the local server's /readyz, for container health
// checks in images that have no curl.
func healthcheckCmd(stdout io.Writer) error {
	src, err := config.Load(config.Options{})
	if err != nil {
		return err
	}
	var sc httpserver.Config
	if err := src.Decode("server", &sc); err != nil {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second}
	res, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", sc.Port))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", res.Status)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}

// couponsCmd runs the promo module's operator commands.
func couponsCmd(args []string, stdout, stderr io.Writer) int {
	src, err := config.Load(config.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return promo.RunCommand(ctx, args, src, stdout, stderr)
}
