package main

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"minikart/test/internal/pgtest"
)

// orderSQL is the pgbench script of one POST /api/order's statements.
//
//go:embed order.sql
var orderSQL string

// fetchProducts returns GET /api/product's body and content type from the
// real server, so the static anchor serves exactly the same bytes.
func fetchProducts(ctx context.Context, base string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/product", nil)
	if err != nil {
		return nil, "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetch products: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, "", fmt.Errorf("fetch products: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetch products: %s: %.200s", res.Status, body)
	}
	return body, res.Header.Get("Content-Type"), nil
}

// staticAnchor is the static handler, serving in a process of its own as
// the server does, so that both sides of browse_vs_static (and the GET
// tails beside each other) cross the same process boundary and neither
// shares the load generator's runtime.
type staticAnchor struct {
	base string
	pid  int
	stop func()
}

// startStatic starts self (this program) again as the static anchor
// (-serve-static) serving body with contentType, and returns once it
// listens. work holds the body's file.
func startStatic(ctx context.Context, self string, body []byte, contentType, work string) (staticAnchor, error) {
	path := filepath.Join(work, "static-body")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return staticAnchor{}, err
	}
	cmd := exec.Command(self, "-serve-static", path, "-serve-static-type", contentType)
	cmd.Stderr = os.Stderr
	// It goes when the load test goes, however that ends: its stdin is a
	// pipe from this process, which closes when this process is gone.
	// (Held until stop: a pipe nobody holds is closed by the collector.)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return staticAnchor{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return staticAnchor{}, err
	}
	if err := cmd.Start(); err != nil {
		return staticAnchor{}, fmt.Errorf("start static anchor: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case base := <-ready:
		if !strings.HasPrefix(base, "http://") {
			stop()
			return staticAnchor{}, errors.New("static anchor did not start")
		}
		return staticAnchor{base: base, pid: cmd.Process.Pid, stop: stop}, nil
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	stop()
	return staticAnchor{}, errors.New("static anchor did not start within 10 s")
}

// serveStatic is the static anchor's process: body (read from bodyPath) at
// /api/product from memory with plain net/http on 127.0.0.1, the fastest any
// Go server on this machine can answer the same request. It prints its base
// URL on stdout and serves until SIGTERM or until stdin ends.
func serveStatic(bodyPath, contentType string, stdin io.Reader, stdout io.Writer) error {
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/product" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		stop()
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// toolRun is what one run of an outside load tool (pgbench, wrk) reports.
type toolRun struct {
	Requests int
	Errors   int
	// Rate is the tool's own requests (transactions) a second.
	Rate float64
	// Seconds is the length of the run, MeanMS the mean latency.
	Seconds float64
	MeanMS  float64
	// CPU is the tool process's own CPU time, in seconds.
	CPU float64
}

// toolSeconds is d in the whole seconds a tool's duration flag takes.
func toolSeconds(d time.Duration) int {
	return max(int(d.Round(time.Second)/time.Second), 1)
}

// runTool runs a tool to its end and returns what it printed and the CPU
// time it took.
func runTool(cmd *exec.Cmd) (out string, cpu float64, err error) {
	b, err := cmd.CombinedOutput()
	if ps := cmd.ProcessState; ps != nil {
		cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w: %.300s", filepath.Base(cmd.Path), err, b)
	}
	return string(b), cpu, nil
}

// runPgbench runs order.sql with clients connections for d against dbURL,
// as fast as they go, or at rate transactions a second when rate > 0; then
// it also logs every transaction and answers them as samples, timed as the
// load generator times a request: from the run's start, and from when the
// transaction began (pgbench's own latency at a rate also counts the wait
// for its turn). Prepared statements, as pgx uses them, and the server's
// session settings (pgOptions), so both sides plan alike.
func runPgbench(ctx context.Context, dbURL, pgOptions string, clients int, d time.Duration, rate float64, work string) (toolRun, []sample, error) {
	bin, err := pgbenchPath()
	if err != nil {
		return toolRun{}, nil, err
	}
	script := filepath.Join(work, "order.sql")
	if err := os.WriteFile(script, []byte(orderSQL), 0o644); err != nil {
		return toolRun{}, nil, err
	}
	secs := toolSeconds(d)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs), "-f", script}
	logPrefix := filepath.Join(work, "pgbench-tx")
	if rate > 0 {
		args = append(args, "-R", strconv.FormatFloat(rate, 'f', 0, 64), "-l", "--log-prefix="+logPrefix)
	}
	began := time.Now()
	cmd := exec.CommandContext(ctx, bin, append(args, dbURL)...)
	cmd.Env = append(os.Environ(), "PGOPTIONS="+pgOptions)
	out, cpu, err := runTool(cmd)
	if err != nil {
		return toolRun{}, nil, err
	}
	r, err := parsePgbench(out)
	r.Seconds, r.CPU = float64(secs), cpu
	if err != nil || rate <= 0 {
		return r, nil, err
	}
	logs, err := filepath.Glob(logPrefix + ".*")
	if err != nil {
		return r, nil, err
	}
	var samples []sample
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			return r, nil, err
		}
		_ = os.Remove(path)
		s, err := parsePgbenchLog(string(b), began)
		if err != nil {
			return r, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		samples = append(samples, s...)
	}
	// Its first second (connections opening, the statement prepared, each
	// backend loading its caches: the server's pool did all that long
	// before) and its last half second (clients disconnecting while others
	// wait for their answers) are pgbench's own and left out.
	samples = slices.DeleteFunc(samples, func(s sample) bool {
		return s.At < time.Second || s.At+s.Latency > time.Duration(secs)*time.Second-time.Second/2
	})
	return r, samples, nil
}

// parsePgbenchLog reads pgbench's per-transaction log of a run at a rate
// (-l -R): "client tx latency_us script epoch_s epoch_us lag_us", the time
// being the transaction's end. A transaction that failed (its latency
// "failed") is a sample without an answer.
func parsePgbenchLog(log string, began time.Time) ([]sample, error) {
	var out []sample
	for line := range strings.Lines(log) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 7 {
			return nil, fmt.Errorf("pgbench log line %q: want 7 fields or more", strings.TrimSpace(line))
		}
		var err error
		num := func(field string) int64 {
			v, e := strconv.ParseInt(field, 10, 64)
			err = errors.Join(err, e)
			return v
		}
		end := time.Unix(num(f[4]), num(f[5])*1000)
		lag := time.Duration(num(f[6])) * time.Microsecond
		s := sample{}
		if f[2] != "failed" {
			s.Latency, s.Code = time.Duration(num(f[2]))*time.Microsecond-lag, http.StatusOK
		}
		if err != nil {
			return nil, fmt.Errorf("pgbench log line %q: %w", strings.TrimSpace(line), err)
		}
		s.At = end.Sub(began) - s.Latency
		out = append(out, s)
	}
	return out, nil
}

// pgbenchPath finds pgbench beside the PostgreSQL server binaries the
// cluster runs from, so client and server are one version, else on PATH.
func pgbenchPath() (string, error) {
	if dir, err := pgtest.BinDir(); err == nil {
		if p := filepath.Join(dir, "pgbench"); fileExists(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	return "", errors.New("pgbench not found (Debian: apt-get install -y postgresql)")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var (
	pgbenchTx      = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	pgbenchFailed  = regexp.MustCompile(`number of failed transactions: (\d+)`)
	pgbenchTPS     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchLatency = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// parsePgbench reads the summary pgbench prints at the end of a run.
func parsePgbench(out string) (toolRun, error) {
	var r toolRun
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := pgbenchTx.FindStringSubmatch(line); m != nil {
			r.Requests, _ = strconv.Atoi(m[1])
		}
		if m := pgbenchFailed.FindStringSubmatch(line); m != nil {
			r.Errors, _ = strconv.Atoi(m[1])
		}
		if m := pgbenchTPS.FindStringSubmatch(line); m != nil {
			r.Rate, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := pgbenchLatency.FindStringSubmatch(line); m != nil {
			r.MeanMS, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	if r.Rate == 0 {
		return r, fmt.Errorf("pgbench printed no throughput: %.500s", out)
	}
	return r, nil
}
