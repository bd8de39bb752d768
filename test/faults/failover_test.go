//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"minikart/test/internal/pgtest"
)

// TestPostgresFailover runs the server on a primary with a synchronous
// streaming standby, named together in one multi-host URL. Under load the
// primary stops hard and the standby is promoted: the server must find the
// new primary by itself within 10 s, answer 503 with Retry-After meanwhile
// (never 500, never a hang), and every order a client saw as 200 must be on
// the new primary.
func TestPostgresFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	primary, err := pgtest.StartThrowawayPrimary(ctx)
	if err != nil {
		t.Fatalf("fault tests need PostgreSQL: %v (%s)", err, pgtest.InstallHint)
	}
	t.Cleanup(func() { _ = primary.Stop() })
	if err := primary.CreateDatabase(ctx, "minikart"); err != nil {
		t.Fatal(err)
	}
	standby, err := primary.StartStandby(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Stop() })
	if err := primary.WaitSynchronous(ctx); err != nil {
		t.Fatal(err)
	}

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/minikart?sslmode=disable&target_session_attrs=read-write",
		primary.Port, standby.Port)
	const requestTimeout = 3 * time.Second
	env, port := baseEnv(t, url)
	// Catalogue reads prefer the standby (database.read_url).
	readURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/minikart?sslmode=disable&target_session_attrs=prefer-standby",
		standby.Port, primary.Port)
	env = append(env, "MINIKART_CONFIG_DIR="+limitedCouponConfig(t, 1_000_000), "MINIKART_DATABASE_READ_URL="+readURL,
		"MINIKART_SERVER_REQUEST_TIMEOUT="+requestTimeout.String(), "MINIKART_DATABASE_CONNECT_TIMEOUT=1s")
	s := startServer(t, env, port)

	// A server that reaches only the standby (a URL without
	// target_session_attrs) has its writes refused as read-only: 503, not
	// 500. The schema is there: the first server migrated the primary.
	t.Run("write on a standby", func(t *testing.T) {
		env, port := baseEnv(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/minikart?sslmode=disable", standby.Port))
		s := startServer(t, append(env, "MINIKART_DATABASE_MIGRATE_ON_START=false"), port)
		o := placeOrder(s.base, uuid.NewString(), `{"items":[{"productId":"1","quantity":1}]}`)
		if o.status != 503 || o.code != "SERVICE_UNAVAILABLE" || o.retryAfter == "" {
			t.Errorf("order on a read-only standby: %d %q Retry-After %q; want 503 SERVICE_UNAVAILABLE with Retry-After", o.status, o.code, o.retryAfter)
		}
		_ = s.cmd.Process.Kill()
	})

	rc := startRetryingClients(s.base, 8, 60*time.Second)
	stopBrowsing := make(chan struct{})
	browsed := make(chan []outcome)
	go func() { browsed <- browse(s.base, stopBrowsing) }()
	time.Sleep(2 * time.Second)
	if err := primary.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now() // pg_ctl -w: the primary is gone
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()

	// Recovered: the answer to the first request sent after the primary
	// was gone that got a 200.
	var recovered time.Time
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && recovered.IsZero(); {
		time.Sleep(100 * time.Millisecond)
		rc.mu.Lock()
		for _, o := range rc.all {
			if o.status == 200 && o.sent.After(stopped) {
				recovered = o.sent.Add(o.latency)
				break
			}
		}
		rc.mu.Unlock()
	}
	time.Sleep(2 * time.Second)
	rc.finish()
	close(stopBrowsing)
	reads := <-browsed

	if recovered.IsZero() || recovered.Sub(stopped) > 10*time.Second {
		t.Errorf("orders succeeded again %v after the primary stopped, want within 10 s", recovered.Sub(stopped))
	}
	if n := rc.gaveUps.Load(); n > 0 {
		t.Errorf("%d keys never got a 200 within %v", n, rc.giveUp)
	}
	outage := 0
	for _, o := range rc.all {
		switch {
		case o.status == 200:
		case o.status == 503:
			outage++
			if n, err := strconv.Atoi(o.retryAfter); err != nil || n <= 0 {
				t.Errorf("503 %s without a Retry-After (%q)", o.code, o.retryAfter)
			}
		case o.status == 409 && o.code == "IDEMPOTENCY_KEY_IN_PROGRESS":
		default:
			t.Errorf("during the failover a request got %d %q after %v", o.status, o.code, o.latency)
		}
		if o.latency > requestTimeout+2*time.Second {
			t.Errorf("a request hung %v (request timeout %v)", o.latency, requestTimeout)
		}
	}
	// The standby serving the catalogue never went away: neither did the
	// catalogue.
	readsOK := 0
	for _, o := range reads {
		if o.status == 200 {
			readsOK++
		} else {
			t.Errorf("a catalogue read on the standby got %d %q during the failover", o.status, o.code)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(s.output.String(), "\n") {
			if strings.Contains(line, `"level":"error"`) && strings.Contains(line, `"request failed"`) {
				t.Logf("server: %s", line)
			}
		}
	}
	if outage == 0 {
		t.Error("no request met the failover: it was not under load")
	}
	newPrimary := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/minikart?sslmode=disable", standby.Port)
	stored, lost := assertExactlyOnce(t, newPrimary, rc)
	t.Logf("failover: promoted %v after the hard stop; orders back %v after it; %d requests, %d answered 503; %d keys, %d orders on the new primary; lost %d; catalogue reads %d, %d answered 200",
		promoted.Sub(stopped).Round(time.Millisecond), recovered.Sub(stopped).Round(time.Millisecond),
		len(rc.all), outage, len(rc.keys), stored, lost, len(reads), readsOK)
}

// browse reads single products until stop is closed and returns what it saw.
func browse(base string, stop <-chan struct{}) []outcome {
	var out []outcome
	for i := 0; ; i++ {
		select {
		case <-stop:
			return out
		default:
		}
		start := time.Now()
		o := outcome{sent: start}
		res, err := client.Get(fmt.Sprintf("%s/api/product/%d", base, i%9+1))
		if err == nil {
			var body struct {
				Error string `json:"error"`
			}
			_ = json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			o.status, o.code, o.retryAfter = res.StatusCode, body.Error, res.Header.Get("Retry-After")
		}
		o.latency = time.Since(start)
		out = append(out, o)
		time.Sleep(10 * time.Millisecond)
	}
}
