//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/jmoiron/sqlx"

	"minikart/test/internal/harness"
	"minikart/test/internal/pgtest"
)

// startCluster starts a throwaway PostgreSQL for one test and creates the
// database the servers use.
func startCluster(t *testing.T) (*pgtest.Cluster, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgtest.StartThrowaway(ctx)
	if err != nil {
		t.Fatalf("fault tests need PostgreSQL: %v (%s)", err, pgtest.InstallHint)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if err := c.CreateDatabase(ctx, "minikart"); err != nil {
		t.Fatal(err)
	}
	return c, c.URL("minikart")
}

// server is one running server process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	output *harness.SyncBuffer
	done   chan struct{}
	err    error
}

// baseEnv is the environment of a server in test mode on a free port.
func baseEnv(t *testing.T, dbURL string) (env []string, port int) {
	t.Helper()
	port, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot()
	files := []string{}
	for i := 1; i <= 3; i++ {
		files = append(files, filepath.Join(root, "data", "coupons", fmt.Sprintf("couponbase%d.gz", i)))
	}
	env = append(os.Environ(),
		"MINIKART_ENV=test",
		"MINIKART_CONFIG_DIR="+filepath.Join(root, "configs"),
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("MINIKART_SERVER_PORT=%d", port),
		"MINIKART_PROMO_FILES="+strings.Join(files, ","),
		"MINIKART_LOG_LEVEL=warn",
	)
	return env, port
}

// launch starts the binary with env and returns without waiting for it.
func launch(t *testing.T, env []string, port int) *server {
	t.Helper()
	s := &server{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), output: &harness.SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("server output:\n%s", tailString(s.output.String(), 4000))
		}
	})
	return s
}

// startServer launches a server and waits until it is ready.
func startServer(t *testing.T, env []string, port int) *server {
	t.Helper()
	s := launch(t, env, port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("server exited during start: %v\n%s", s.err, s.output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exitCode waits for the process to end, at most d.
func (s *server) exitCode(d time.Duration) (int, bool) {
	select {
	case <-s.done:
		if s.err == nil {
			return 0, true
		}
		if ee, ok := s.err.(*exec.ExitError); ok {
			return ee.ExitCode(), true
		}
		return -1, true
	case <-time.After(d):
		return 0, false
	}
}

// outcome is what one order request saw.
type outcome struct {
	key     string
	status  int // 0: no HTTP answer
	orderID string
	code    string
	latency time.Duration
	// retryAfter is the Retry-After header; sent is when the request left.
	retryAfter string
	sent       time.Time
}

var client = &http.Client{Timeout: 15 * time.Second}

// placeOrder posts one order with an Idempotency-Key.
func placeOrder(base, key, body string) outcome {
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/order", strings.NewReader(body))
	req.Header.Set("api_key", "apitest")
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	o := outcome{key: key, latency: time.Since(start), sent: start}
	if err != nil {
		return o
	}
	defer res.Body.Close()
	o.retryAfter = res.Header.Get("Retry-After")
	var answer struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	o.status = res.StatusCode
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		o.code = "NOT_JSON"
	}
	o.orderID, o.code = answer.ID, o.code+answer.Error
	o.latency = time.Since(start)
	return o
}

// load runs workers posting orders until stop is closed, then returns
// everything they saw.
func load(base string, workers int, stop <-chan struct{}) []outcome {
	var mu sync.Mutex
	var all []outcome
	var wg sync.WaitGroup
	var n atomic.Int64
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := n.Add(1)
				o := placeOrder(base, uuid.NewString(), fmt.Sprintf(`{"items":[{"productId":"%d","quantity":1}]}`, i%9+1))
				mu.Lock()
				all = append(all, o)
				mu.Unlock()
				if o.status == 0 {
					time.Sleep(20 * time.Millisecond) // refused: do not spin
				}
			}
		})
	}
	wg.Wait()
	return all
}

// assertStored checks, with the database as the judge, that every order a
// client saw as 200 is stored and that no key produced two orders.
func assertStored(t *testing.T, dbURL string, outcomes []outcome) {
	t.Helper()
	db, err := sqlx.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ok := 0
	for _, o := range outcomes {
		if o.status != 200 {
			continue
		}
		ok++
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM orders WHERE id = $1`, o.orderID); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("order %s answered 200 but stored %d times", o.orderID, n)
		}
	}
	var orders, keys int
	if err := db.Get(&orders, `SELECT count(*) FROM orders`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&keys, `SELECT count(DISTINCT order_id) FROM idempotency_keys`); err != nil {
		t.Fatal(err)
	}
	if orders != keys {
		t.Errorf("%d orders but %d idempotency keys: an order without its key, or a key with two orders", orders, keys)
	}
	if ok == 0 {
		t.Error("no order succeeded: the load never ran")
	}
	t.Logf("%d requests, %d answered 200, %d orders stored", len(outcomes), ok, orders)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
