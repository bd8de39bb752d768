package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"minikart/platform/config"
	"minikart/platform/db"
	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

// apiKey is the ordering api key the load test's own server accepts.
const apiKey = "loadtest"

// stack is the system under test: the server, its database, and how to
// reach both. stop tears down whatever start brought up, in reverse order.
type stack struct {
	base     string
	adminURL string
	// dbURL is the server's database, for the pgbench anchor; empty when
	// an external server's database is unknown.
	dbURL  string
	apiKey string
	// pgOptions is PGOPTIONS for the pgbench anchor: the session settings
	// the server's pool starts its connections with.
	pgOptions string
	// procs are the server's and PostgreSQL's processes, for CPU
	// accounting; zero when external.
	procs procs
	// logPath is the server's log; empty when external.
	logPath string
	// pgLogPath is the log of the load test's own PostgreSQL, which
	// stop removes; empty otherwise.
	pgLogPath string
	stops     []func() error
}

// stop runs the teardown steps, last started first.
func (s *stack) stop() error {
	var errs []error
	for i := len(s.stops) - 1; i >= 0; i-- {
		errs = append(errs, s.stops[i]())
	}
	s.stops = nil
	return errors.Join(errs...)
}

// buildServer builds the checkout at root into work and returns the
// binary's path.
func buildServer(ctx context.Context, root, work string, logw io.Writer) (string, error) {
	bin := filepath.Join(work, "minikart")
	fmt.Fprintln(logw, "building the server")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build server: %w: %s", err, out)
	}
	return bin, nil
}

// startStack targets BASE_URL when it is set, and otherwise builds the
// server, starts it on a throwaway PostgreSQL set up as pg says, with
// production's durability (or on the one DATABASE_URL names) with extraEnv
// added to its environment, and waits until it is ready.
func startStack(ctx context.Context, root, work string, logw io.Writer, pg postgresSetup, extraEnv ...string) (*stack, error) {
	opts, err := sessionOptions(root)
	if err != nil {
		return nil, err
	}
	if base := os.Getenv("BASE_URL"); base != "" {
		if err := loopbackOnly(base); err != nil {
			return nil, err
		}
		key := os.Getenv("API_KEY")
		if key == "" {
			key = "apitest"
		}
		return &stack{base: strings.TrimRight(base, "/"), dbURL: os.Getenv("DATABASE_URL"), apiKey: key, pgOptions: opts}, nil
	}
	st := &stack{apiKey: apiKey, pgOptions: opts}
	ok := false
	defer func() {
		if !ok {
			_ = st.stop()
		}
	}()

	bin, err := buildServer(ctx, root, work, logw)
	if err != nil {
		return nil, err
	}

	st.dbURL = os.Getenv("DATABASE_URL")
	if st.dbURL == "" {
		fmt.Fprintf(logw, "starting a throwaway PostgreSQL (%s): %s\n", pg.where(), strings.Join(pg.settings, " "))
		startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cluster, err := pgtest.StartDurable(startCtx, pg.onDisk, pg.settings...)
		if err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w (%s)", err, pgtest.InstallHint)
		}
		st.stops = append(st.stops, cluster.Stop)
		if err := cluster.CreateDatabase(startCtx, "minikart_load"); err != nil {
			return nil, err
		}
		st.dbURL = cluster.URL("minikart_load")
		if !pg.freshWAL {
			n, err := recycleWAL(startCtx, st.dbURL)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(logw, "readied %d WAL segments for reuse, as a cluster that has run a while has them\n", n)
		}
		st.procs.postmaster = postmasterPID(cluster.Dir)
		st.pgLogPath = filepath.Join(cluster.Dir, "server.log")
	}

	srv, err := startServer(ctx, bin, root, st.dbURL, filepath.Join(work, "server.log"), logw, extraEnv...)
	if err != nil {
		return nil, err
	}
	st.stops = append(st.stops, srv.stop)
	st.procs.server, st.logPath = srv.pid, srv.logPath
	st.base, st.adminURL = srv.base, srv.adminURL
	ok = true
	return st, nil
}

// server is one server process the load test started.
type server struct {
	base     string
	adminURL string
	pid      int
	logPath  string
	// stop sends SIGTERM and waits for the server to drain and exit.
	stop func() error
}

// serverEnvName is the environment the servers run in: MINIKART_ENV, else
// production, whose settings (JSON request logs at info, its pool size) are
// what the figures should describe.
func serverEnvName() string {
	if env := os.Getenv("MINIKART_ENV"); env != "" {
		return env
	}
	return "production"
}

// sessionOptions is PGOPTIONS that starts a PostgreSQL session as the
// server's pool starts its own (database.plan_cache_mode and database.jit of
// the servers' environment and configuration directory), so that pgbench
// runs the order's SQL under the plans the server's sessions use.
func sessionOptions(root string) (string, error) {
	dir := os.Getenv("MINIKART_CONFIG_DIR")
	if dir == "" {
		dir = filepath.Join(root, "configs")
	}
	// Only the session settings are read: the URL, which the section
	// requires, is the servers' own business.
	src, err := config.Load(config.Options{Env: serverEnvName(), Dir: dir, Overrides: map[string]any{
		"database.url": harness.UnusedDatabaseURL,
	}})
	if err != nil {
		return "", err
	}
	var c db.Config
	if err := src.Decode("database", &c); err != nil {
		return "", err
	}
	params := c.SessionParams()
	opts := make([]string, 0, len(params))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		opts = append(opts, "-c "+name+"="+params[name])
	}
	return strings.Join(opts, " "), nil
}

// startServer starts the binary bin as `serve` on dbURL, on free loopback
// ports, with production's settings (unless MINIKART_ENV says otherwise)
// less the per-instance limits that would measure the limiter instead of
// the service, and extraEnv on top; it logs to logPath and waits until the
// server is ready.
func startServer(ctx context.Context, bin, root, dbURL, logPath string, logw io.Writer, extraEnv ...string) (*server, error) {
	port, err := pgtest.FreePort()
	if err != nil {
		return nil, err
	}
	adminPort, err := pgtest.FreePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"MINIKART_ENV="+serverEnvName(),
		"DATABASE_URL="+dbURL,
		"MINIKART_SERVER_HOST=127.0.0.1",
		"MINIKART_SERVER_PORT="+strconv.Itoa(port),
		"MINIKART_SERVER_PUBLIC_URL=http://127.0.0.1:"+strconv.Itoa(port),
		"MINIKART_DATABASE_MIGRATE_ON_START=true",
		"MINIKART_AUTH_API_KEYS="+apiKey,
		"MINIKART_PROMO_INDEX_PATH=",
		// The load comes from one IP and one api key: per-instance rate
		// limits would measure the limiter, not the service, and the
		// per-address connection cap would refuse the larger steps' clients.
		"MINIKART_SERVER_RATE_LIMIT_ENABLED=false",
		"MINIKART_SERVER_MAX_CONNECTIONS_PER_IP=4096",
		"MINIKART_ORDERING_RATE_LIMIT_ENABLED=false",
		"MINIKART_ADMIN_ENABLED=true",
		"MINIKART_ADMIN_HOST=127.0.0.1",
		"MINIKART_ADMIN_PORT="+strconv.Itoa(adminPort),
		"MINIKART_ADMIN_PPROF=true",
	)
	// A later entry wins (os/exec keeps the last of a duplicate key).
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: a terminal's Ctrl-C reaches only the load test,
	// which then stops the server in order (draining, then the database).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	// exited is closed once the process is gone, waitErr set before.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); logFile.Close(); close(exited) }()
	srv := &server{
		base:     "http://127.0.0.1:" + strconv.Itoa(port),
		adminURL: "http://127.0.0.1:" + strconv.Itoa(adminPort),
		pid:      cmd.Process.Pid,
		logPath:  logPath,
		stop: func() error {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			return nil
		},
	}
	fmt.Fprintf(logw, "server pid %d on %s (log %s)\n", srv.pid, srv.base, logPath)
	if err := waitReady(ctx, srv.base, exited, func() error { return waitErr }); err != nil {
		_ = srv.stop()
		return nil, fmt.Errorf("%w; server log: %s", err, logPath)
	}
	return srv, nil
}

// logErrors counts the error lines in the server's JSON log: a request the
// client saw succeed may still have logged a failure worth knowing about.
func logErrors(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(`"level":"error"`)) {
			n++
		}
	}
	return n, sc.Err()
}

// waitReady polls /readyz until it answers 200, the server exits, or two
// minutes pass (the coupon set loads before the server is ready).
func waitReady(ctx context.Context, base string, exited <-chan struct{}, exitErr func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if res, err := client.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited before it was ready: %v", exitErr())
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// postmasterPID reads the cluster's postmaster.pid; 0 when unreadable,
// which only leaves PostgreSQL out of the CPU figures.
func postmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// loopbackOnly refuses a base URL off this machine: a load test must never
// hit a shared or remote system by accident.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("BASE_URL: %w", err)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return fmt.Errorf("BASE_URL %q: only loopback addresses may be loaded", raw)
}
