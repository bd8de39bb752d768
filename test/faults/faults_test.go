//go:build faults

package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

func TestSIGTERMUnderLoad(t *testing.T) {
	_, dbURL := startCluster(t)
	env, port := baseEnv(t, dbURL)
	s := startServer(t, env, port)

	stop := make(chan struct{})
	var outcomes []outcome
	done := make(chan struct{})
	go func() { outcomes = load(s.base, 16, stop); close(done) }()
	time.Sleep(1500 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, exited := s.exitCode(20 * time.Second)
	close(stop)
	<-done
	if !exited || code != 0 {
		t.Fatalf("after SIGTERM: exited %v with code %d, want 0 within the shutdown timeout", exited, code)
	}
	for _, o := range outcomes {
		if o.status >= 500 {
			t.Errorf("request %s answered %d %s during shutdown", o.key, o.status, o.code)
		}
	}
	assertStored(t, dbURL, outcomes)
}

func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster, dbURL := startCluster(t)
	env, port := baseEnv(t, dbURL)
	env = append(env, "MINIKART_SERVER_REQUEST_TIMEOUT=2s", "MINIKART_DATABASE_CONNECT_TIMEOUT=1s")
	s := startServer(t, env, port)

	stop := make(chan struct{})
	var outcomes []outcome
	done := make(chan struct{})
	go func() { outcomes = load(s.base, 8, stop); close(done) }()
	time.Sleep(time.Second)

	ctx := context.Background()
	stoppedAt := time.Now()
	if err := cluster.StopServer(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	res, err := http.Get(s.base + "/readyz")
	if err != nil || res.StatusCode != 503 {
		t.Errorf("readyz with PostgreSQL down: %v %v, want 503", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
	time.Sleep(8 * time.Second)
	if err := cluster.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	recovered := time.Time{}
	for time.Since(back) < 15*time.Second {
		o := placeOrder(s.base, uuid.NewString(), `{"items":[{"productId":"1","quantity":1}]}`)
		if o.status == 200 {
			recovered = time.Now()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	close(stop)
	<-done

	select {
	case <-s.done:
		t.Fatalf("server exited during the outage: %v", s.err)
	default:
	}
	if recovered.IsZero() || recovered.Sub(back) > 5*time.Second {
		t.Errorf("orders succeeded again %v after PostgreSQL returned, want within 5 s", recovered.Sub(back))
	}
	outage := 0
	for _, o := range outcomes {
		switch {
		case o.status == 200:
		case o.status == 503 && (o.code == "SERVICE_UNAVAILABLE" || o.code == "TIMEOUT"):
			outage++
		case o.status == 504 && o.code == "TIMEOUT":
			outage++
		default:
			t.Errorf("during the restart a request got %d %q after %v", o.status, o.code, o.latency)
		}
		if o.latency > 4*time.Second {
			t.Errorf("a request hung %v (request timeout 2s)", o.latency)
		}
	}
	if outage == 0 {
		t.Error("no request met the outage: the restart was not under load")
	}
	t.Logf("PostgreSQL down %v; %d requests answered 503/504; orders back %v after restart",
		back.Sub(stoppedAt).Round(time.Millisecond), outage, recovered.Sub(back).Round(time.Millisecond))
	assertStored(t, dbURL, outcomes)
}

func TestPostgresUnreachableAtStart(t *testing.T) {
	env, port := baseEnv(t, "postgres://postgres:secret-pw@127.0.0.1:1/minikart?sslmode=disable")
	env = append(env, "MINIKART_DATABASE_START_DEADLINE=2s")
	start := time.Now()
	s := launch(t, env, port)
	code, exited := s.exitCode(30 * time.Second)
	if !exited || code == 0 {
		t.Fatalf("exited %v with code %d, want a non-zero exit", exited, code)
	}
	out := s.output.String()
	if !strings.Contains(out, "database not reachable") || strings.Contains(out, "secret-pw") {
		t.Errorf("output does not say the database is unreachable, or leaks the password:\n%s", out)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("gave up after %v, want about the 2 s deadline", took)
	}
}

func TestBadCouponFilesAtStart(t *testing.T) {
	_, dbURL := startCluster(t)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.gz")
	good, err := os.ReadFile(filepath.Join(repoRoot(), "data", "coupons", "couponbase2.gz"))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)-6] ^= 0xff // break the CRC in the gzip trailer
	if err := os.WriteFile(corrupt, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"missing": filepath.Join(dir, "missing.gz"), "corrupt": corrupt} {
		t.Run(name, func(t *testing.T) {
			env, port := baseEnv(t, dbURL)
			first := filepath.Join(repoRoot(), "data", "coupons", "couponbase1.gz")
			env = append(env, "MINIKART_PROMO_FILES="+first+","+file)
			s := launch(t, env, port)
			code, exited := s.exitCode(30 * time.Second)
			if !exited || code == 0 || !strings.Contains(s.output.String(), file) {
				t.Errorf("exited %v code %d; want non-zero with an error naming %s:\n%s", exited, code, file, s.output.String())
			}
		})
	}
}

func TestTwoInstancesShareKeysAndCouponLimit(t *testing.T) {
	_, dbURL := startCluster(t)
	cfgDir := limitedCouponConfig(t, 5)
	var servers []*server
	for range 2 {
		env, port := baseEnv(t, dbURL)
		env = append(env, "MINIKART_CONFIG_DIR="+cfgDir)
		servers = append(servers, startServer(t, env, port))
	}

	const keys = 40
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	for k := range keys {
		key := uuid.NewString()
		body := fmt.Sprintf(`{"items":[{"productId":"%d","quantity":1}]}`, k%9+1)
		if k%2 == 0 {
			body = fmt.Sprintf(`{"couponCode":"FIFTYOFF","items":[{"productId":"%d","quantity":1}]}`, k%9+1)
		}
		// Every key is sent three times to each instance at once.
		for i := range 6 {
			wg.Go(func() {
				o := placeOrder(servers[i%2].base, key, body)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			})
		}
	}
	wg.Wait()

	byKey := map[string]string{}
	for _, o := range outcomes {
		switch {
		case o.status == 200:
			if prev, ok := byKey[o.key]; ok && prev != o.orderID {
				t.Errorf("key %s answered with two orders: %s and %s", o.key, prev, o.orderID)
			}
			byKey[o.key] = o.orderID
		case o.status == 409 && o.code == "IDEMPOTENCY_KEY_IN_PROGRESS":
		case o.status == 422 && o.code == "PROMO_EXHAUSTED":
		default:
			t.Errorf("key %s: %d %q", o.key, o.status, o.code)
		}
	}
	db, err := sqlx.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var fifty, redeemed int
	if err := db.Get(&fifty, `SELECT count(*) FROM orders WHERE coupon_code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&redeemed, `SELECT coalesce(max(redeemed), 0) FROM coupon_redemptions WHERE code = 'FIFTYOFF'`); err != nil {
		t.Fatal(err)
	}
	if fifty != 5 || redeemed != 5 {
		t.Errorf("%d FIFTYOFF orders, counter %d; want exactly the limit, 5", fifty, redeemed)
	}
	if len(byKey) != keys/2+5 {
		t.Errorf("%d keys got an order, want %d (every plain order, and 5 with the limited coupon)", len(byKey), keys/2+5)
	}
	assertStored(t, dbURL, outcomes)
}
