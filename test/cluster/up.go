package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"minikart/test/internal/pgtest"
)

// newTopology lays the cluster out in dir for the checkout at repo, with
// the secrets kept there (made at the first start).
func newTopology(dir, repo string) (*topology, error) {
	bin, err := pgtest.BinDir()
	if err != nil {
		return nil, err
	}
	t := &topology{dir: dir, repo: repo, bin: filepath.Join(dir, "bin", "minikart"), pgBin: bin}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The parts' system users must reach their directories below it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	sec, err := loadSecrets(t.path("secrets.json"))
	if err != nil {
		return nil, err
	}
	t.sec = sec
	return t, nil
}

func loadSecrets(path string) (secrets, error) {
	var s secrets
	b, err := os.ReadFile(path)
	if err == nil {
		return s, json.Unmarshal(b, &s)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	s = secrets{SuperuserPassword: random(), ReplicationPassword: random(), AppPassword: random(), APIKey: random()}
	b, _ = json.MarshalIndent(s, "", "  ")
	return s, os.WriteFile(path, b, 0o600)
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// up starts every part that does not run yet, in order, each once the
// parts it needs are ready, and logs progress to w.
func (t *topology) up(ctx context.Context, w io.Writer) error {
	if err := t.checkPorts(); err != nil {
		return err
	}
	fmt.Fprintf(w, "cluster directory: %s\n", t.dir)
	if err := t.build(ctx); err != nil {
		return err
	}
	if err := t.writeConfigs(); err != nil {
		return err
	}
	step := func(what string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w (logs: %s/*.log)", what, err, t.dir)
		}
		fmt.Fprintf(w, "%-28s %5.1fs\n", what, time.Since(start).Seconds())
		return nil
	}
	if err := step("etcd (3 members)", func() error {
		for i := 1; i <= etcdMembers; i++ {
			if err := t.ensure(t.etcd(i)); err != nil {
				return err
			}
		}
		for i := 1; i <= etcdMembers; i++ {
			if err := t.waitEtcd(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := step("PostgreSQL under Patroni", func() error {
		for i := 1; i <= pgNodes; i++ {
			if err := t.ensure(t.patroni(i)); err != nil {
				return err
			}
		}
		_, err := t.waitPatroni(ctx, pgNodes)
		return err
	}); err != nil {
		return err
	}
	if err := step("HAProxy", func() error {
		if err := t.ensure(t.haproxy()); err != nil {
			return err
		}
		return t.waitPrimary(ctx)
	}); err != nil {
		return err
	}
	if err := step("database, schema, coupons", func() error { return t.prepareDatabase(ctx) }); err != nil {
		return err
	}
	if err := step("minikart (3 instances)", func() error {
		for i := 1; i <= servers; i++ {
			if err := t.ensure(t.server(i)); err != nil {
				return err
			}
		}
		for i := 1; i <= servers; i++ {
			if err := waitHTTP(ctx, fmt.Sprintf("http://%s/readyz", hostPort(serverPort+i)), 2*time.Minute); err != nil {
				return fmt.Errorf("%s: %w", serverName(i), err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := step("nginx", func() error {
		if err := t.ensure(t.nginx()); err != nil {
			return err
		}
		return waitHTTP(ctx, publicURL()+"/readyz", 30*time.Second)
	}); err != nil {
		return err
	}
	return step("Prometheus", func() error {
		if err := t.ensure(t.prometheus()); err != nil {
			return err
		}
		return waitHTTP(ctx, "http://"+hostPort(prometheusPort)+"/-/ready", 60*time.Second)
	})
}

// ensure starts p unless it runs.
func (t *topology) ensure(p part) error {
	if t.pid(p.name) > 0 {
		return nil
	}
	return t.start(p)
}

// checkPorts fails when a port of a part that is not running is taken.
func (t *topology) checkPorts() error {
	for _, p := range t.parts() {
		if t.pid(p.name) > 0 {
			continue
		}
		for _, l := range p.listens {
			addr := strings.TrimPrefix(l.addr, "http://")
			if i := strings.IndexByte(addr, '/'); i >= 0 {
				addr = addr[:i]
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s cannot listen on %s: %w (another cluster or program uses the port: `make cluster-stop` stops this checkout's)", p.name, addr, err)
			}
			ln.Close()
		}
	}
	return nil
}

// build compiles the server the way `make build` does, into the cluster's
// directory.
func (t *topology) build(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "make", "-s", "build", "BIN="+t.bin)
	cmd.Dir = t.repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make build: %w\n%s", err, out)
	}
	return nil
}

func (t *topology) waitEtcd(ctx context.Context, i int) error {
	url := fmt.Sprintf("http://%s/health", hostPort(etcdClientPort+i))
	return poll(ctx, 30*time.Second, func() error {
		b, err := get(url)
		if err == nil && !strings.Contains(string(b), `"true"`) {
			err = fmt.Errorf("unhealthy: %s", b)
		}
		return err
	})
}

// member is one node as Patroni's GET /cluster describes it.
type member struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
	Lag   any    `json:"lag"`
}

// patroniMembers asks the first Patroni that answers for the cluster,
// except those named in skip (a node cut off from etcd tells what it last
// saw).
func patroniMembers(skip ...string) ([]member, error) {
	var last error
	for i := 1; i <= pgNodes; i++ {
		if slices.Contains(skip, pgName(i)) {
			continue
		}
		b, err := get(fmt.Sprintf("http://%s/cluster", hostPort(patroniPort+i)))
		if err != nil {
			last = err
			continue
		}
		var c struct{ Members []member }
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		return c.Members, nil
	}
	return nil, last
}

// waitPatroni waits until a leader runs with a synchronous standby and
// want members in all run, and returns the leader's name.
func (t *topology) waitPatroni(ctx context.Context, want int) (string, error) {
	var leader string
	err := poll(ctx, 3*time.Minute, func() error {
		ms, err := patroniMembers()
		if err != nil {
			return err
		}
		leader = ""
		running, sync := 0, false
		for _, m := range ms {
			if m.State == "running" || m.State == "streaming" {
				running++
			}
			switch m.Role {
			case "leader":
				leader = m.Name
			case "sync_standby":
				sync = true
			}
		}
		if leader == "" || !sync || running < want {
			return fmt.Errorf("members %+v: want a leader, a synchronous standby and %d running", ms, want)
		}
		return nil
	})
	return leader, err
}

func (t *topology) superuserURL(addr, db string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=2", superUser, t.sec.SuperuserPassword, addr, db)
}

// haproxyUp lists the nodes HAProxy's checks find primary, by its
// statistics (CSV).
func haproxyUp() ([]string, error) {
	b, err := get(fmt.Sprintf("http://%s/stats;csv", hostPort(haproxyStats)))
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("HAProxy statistics: %v", err)
	}
	status := slices.Index(rows[0], "status")
	var up []string
	for _, r := range rows[1:] {
		if len(r) <= status || r[0] != "primary" || !strings.HasPrefix(r[1], "pg-") {
			continue
		}
		switch r[status] {
		case "UP":
			up = append(up, r[1])
		case "DOWN":
		default: // UP 1/2: a check failed, the next may take it down
			return nil, fmt.Errorf("HAProxy checks %s: %s", r[1], r[status])
		}
	}
	return up, nil
}

// waitPrimary waits until HAProxy's checks have found the one primary (it
// starts with every node up until their checks fail) and its port leads
// to a writable node.
func (t *topology) waitPrimary(ctx context.Context) error {
	return poll(ctx, 60*time.Second, func() error {
		if up, err := haproxyUp(); err != nil || len(up) != 1 {
			return fmt.Errorf("HAProxy finds %v primary (%v), want one", up, err)
		}
		c, err := pgx.Connect(ctx, t.superuserURL(hostPort(haproxyPort), "postgres"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var standby bool
		if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil {
			return err
		}
		if standby {
			return errors.New("HAProxy leads to a standby")
		}
		return nil
	})
}

// prepareDatabase does the deploy step: the application's role and
// database (deploy/'s script, as compose's create-database service runs
// it), migrations and the coupon index, built once for every instance.
func (t *topology) prepareDatabase(ctx context.Context) error {
	if err := os.MkdirAll(t.path("coupons"), 0o755); err != nil {
		return err
	}
	for _, s := range t.deploySteps() {
		cmd := exec.CommandContext(ctx, s.args[0], s.args[1:]...)
		cmd.Dir = t.dir
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.dir}, s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", s.name, err, out)
		}
	}
	return nil
}

// down stops every part, the last started first.
func (t *topology) down(w io.Writer) error {
	ps := t.parts()
	var errs []error
	for i := len(ps) - 1; i >= 0; i-- {
		running := t.pid(ps[i].name) > 0
		if err := t.stop(ps[i].name, 30*time.Second); err != nil {
			errs = append(errs, err)
		} else if running {
			fmt.Fprintf(w, "stopped %s\n", ps[i].name)
		}
	}
	return errors.Join(errs...)
}

// status lists each part, whether it runs and where it listens, and each
// PostgreSQL node's role.
func (t *topology) status(w io.Writer) {
	roles := map[string]string{}
	if ms, err := patroniMembers(); err == nil {
		for _, m := range ms {
			roles[m.Name] = m.Role + ", " + m.State
		}
	}
	fmt.Fprintf(w, "cluster directory: %s (logs: <part>.log)\n", t.dir)
	for _, p := range t.parts() {
		state := "stopped"
		if pid := t.pid(p.name); pid > 0 {
			state = fmt.Sprintf("pid %d", pid)
			if r, ok := roles[p.name]; ok {
				state += ", " + r
			}
		}
		var ls []string
		for _, l := range p.listens {
			ls = append(ls, l.what+" "+l.addr)
		}
		fmt.Fprintf(w, "%-11s %-28s %s\n", p.name, state, strings.Join(ls, "  "))
	}
	fmt.Fprintf(w, "orders: POST %s/api/order with the header api_key: the APIKey in %s\n", publicURL(), t.path("secrets.json"))
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func get(url string) ([]byte, error) {
	res, err := httpClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b, err
}

func waitHTTP(ctx context.Context, url string, d time.Duration) error {
	return poll(ctx, d, func() error { _, err := get(url); return err })
}

// poll calls f until it succeeds, ctx ends or d passes.
func poll(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v: %w", d, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
