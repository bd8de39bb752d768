//go:build faults

package faults

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

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
	env = append(env, "MINIKART_CONFIG_DIR="+limitedCouponConfig(t, 1_000_000),
		"MINIKART_SERVER_REQUEST_TIMEOUT="+requestTimeout.String(), "MINIKART_DATABASE_CONNECT_TIMEOUT=1s")
	s := startServer(t, env, port)

	rc := startRetryingClients(s.base, 8, 60*time.Second)
	time.Sleep(2 * time.Second)
	stopped := time.Now()
	if err := primary.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()

	// Recovered: the first 200 to a request sent after the primary stopped.
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
	t.Logf("failover: promoted %v after the hard stop; orders back %v after it; %d requests, %d answered 503; %d keys, %d orders on the new primary; lost %d",
		promoted.Sub(stopped).Round(time.Millisecond), recovered.Sub(stopped).Round(time.Millisecond),
		len(rc.all), outage, len(rc.keys), stored, lost)
}
