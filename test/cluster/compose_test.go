package main

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"minikart/test/internal/harness"
)

func readComposeFile(t *testing.T, root string) harness.Compose {
	t.Helper()
	c, err := harness.ReadCompose(root)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// argv is what the service runs: its entrypoint then its command; the
// Mini-Kart image (build: .) has the binary as its entrypoint.
func argv(s harness.ComposeService) []string {
	if s.Build == "." && len(s.Entrypoint) == 0 {
		return append([]string{"/app/minikart"}, s.Command...)
	}
	return append(slices.Clone(s.Entrypoint), s.Command...)
}

// program names what a command line runs, wherever it is installed: the
// base name without .sh, and through `sh script`.
func program(argv []string) (string, []string) {
	if len(argv) > 1 && argv[0] == "sh" {
		argv = argv[1:]
	}
	return strings.TrimSuffix(filepath.Base(argv[0]), ".sh"), argv[1:]
}

// flagsAndArgs splits arguments into flag names (without their values) and
// how many other arguments there are; an argument following a single-dash
// flag is its value.
func flagsAndArgs(args []string) (flags []string, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a, "=")
			flags = append(flags, name)
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			if a != "-db" && i+1 < len(args) {
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	slices.Sort(flags)
	return flags, positional
}

// clusterOnlyFlags are the flags the loopback cluster adds, and why.
var clusterOnlyFlags = map[string][]string{
	// nginx keeps its pid, logs and temporary files in the cluster's
	// directory, so that it runs without root and beside a system nginx.
	"nginx": {"-e", "-p"},
}

func envMap(kvs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// placed reports whether a value of the cluster's differs from compose's by
// where things are, not what they are: an address, a path, a port, or a
// secret (compose takes secrets from the operator).
func (t *topology) placed(v string) bool {
	if strings.Contains(v, "127.0.0.1") || strings.Contains(v, "/") {
		return true
	}
	if p, err := strconv.Atoi(v); err == nil && p >= basePort && p < basePort+100 {
		return true
	}
	for _, s := range []string{t.sec.SuperuserPassword, t.sec.ReplicationPassword, t.sec.AppPassword, t.sec.APIKey} {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

func clusterForComparison(t *testing.T) *topology {
	return &topology{dir: "/cluster", repo: repoRoot(t), bin: "/cluster/bin/minikart", pgBin: "/usr/lib/postgresql/15/bin",
		sec: secrets{SuperuserPassword: "superuser-secret", ReplicationPassword: "replication-secret", AppPassword: "app-secret", APIKey: "api-secret"}}
}

// TestComposeIsTheCluster: docker-compose.yml describes the topology `make
// cluster` runs: the same services, each running the same program with the
// same flags, the same environment variables (equal values except where an
// address, path, port or secret differs), the same configuration files of
// deploy/, and the same deploy step.
func TestComposeIsTheCluster(t *testing.T) {
	topo := clusterForComparison(t)
	c := readComposeFile(t, topo.repo)

	want := map[string]bool{}
	for _, p := range topo.parts() {
		want[p.name] = true
	}
	for _, s := range topo.deploySteps() {
		want[s.service] = true
	}
	for name := range c.Services {
		if !want[name] {
			t.Errorf("compose runs %s, which the cluster does not", name)
		}
	}
	for name := range want {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("the cluster runs %s, which compose does not", name)
		}
	}

	compareEnv := func(name string, cluster map[string]string, svc harness.ComposeService) {
		t.Helper()
		for k, v := range cluster {
			cv, ok := svc.Environment[k]
			switch {
			case !ok:
				t.Errorf("%s: the cluster sets %s, compose does not", name, k)
			case !topo.placed(v) && !strings.Contains(cv, "${") && cv != v:
				t.Errorf("%s: %s is %q in the cluster, %q in compose", name, k, v, cv)
			}
		}
		for k := range svc.Environment {
			if _, ok := cluster[k]; !ok {
				t.Errorf("%s: compose sets %s, the cluster does not", name, k)
			}
		}
	}
	for _, p := range topo.parts() {
		svc, ok := c.Services[p.name]
		if !ok {
			continue
		}
		prog, args := program(append([]string{p.path}, p.args...))
		cprog, cargs := program(argv(svc))
		if prog != cprog {
			t.Errorf("%s: the cluster runs %s, compose %s", p.name, prog, cprog)
		}
		flags, pos := flagsAndArgs(args)
		cflags, cpos := flagsAndArgs(cargs)
		flags = slices.DeleteFunc(flags, func(f string) bool { return slices.Contains(clusterOnlyFlags[prog], f) })
		if !slices.Equal(flags, cflags) {
			t.Errorf("%s: the cluster's flags %v, compose's %v", p.name, flags, cflags)
		}
		if len(pos) != len(cpos) {
			t.Errorf("%s: the cluster's arguments %v, compose's %v", p.name, pos, cpos)
		}
		for i := range min(len(pos), len(cpos)) {
			if !topo.placed(pos[i]) && pos[i] != cpos[i] {
				t.Errorf("%s: argument %q in the cluster, %q in compose", p.name, pos[i], cpos[i])
			}
		}
		compareEnv(p.name, envMap(p.env), svc)
		for _, f := range p.configs {
			if !mounts(svc, f) {
				t.Errorf("%s: the cluster runs it with deploy/%s, which compose does not mount", p.name, f)
			}
		}
	}

	// The deploy step: each compose one-shot runs the cluster's commands,
	// in order, with the same environment.
	byService := map[string][]step{}
	var order []string
	for _, s := range topo.deploySteps() {
		if _, ok := byService[s.service]; !ok {
			order = append(order, s.service)
		}
		byService[s.service] = append(byService[s.service], s)
	}
	for _, name := range order {
		svc, ok := c.Services[name]
		if !ok {
			continue
		}
		var want, got []string
		for _, s := range byService[name] {
			prog, args := program(s.args)
			want = append(want, strings.Join(append([]string{prog}, args...), " "))
		}
		line := argv(svc)
		if len(line) == 3 && line[1] == "-c" { // sh -c "a && b"
			for _, cmd := range strings.Split(line[2], "&&") {
				prog, args := program(strings.Fields(cmd))
				got = append(got, strings.Join(append([]string{prog}, args...), " "))
			}
		} else {
			prog, args := program(line)
			got = append(got, strings.Join(append([]string{prog}, args...), " "))
		}
		if !slices.Equal(stripPaths(want), stripPaths(got)) {
			t.Errorf("%s: the cluster's deploy step runs %q, compose %q", name, want, got)
		}
		for _, s := range byService[name] {
			compareEnv(name, envMap(s.env), svc)
		}
	}

	// The script compose's create-database runs is the one the cluster runs.
	df, err := os.ReadFile(filepath.Join(topo.repo, "deploy", "patroni", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^COPY create-app-database\.sh /usr/local/bin/create-app-database$`).Match(df) {
		t.Error("deploy/patroni/Dockerfile does not install create-app-database.sh as create-app-database")
	}
	if c.Services["create-database"].Build != "deploy/patroni" {
		t.Error("compose's create-database does not run the image deploy/patroni builds, which holds the script")
	}
}

// stripPaths drops the arguments that are paths, which differ by place, so
// that commands compare by what they run.
func stripPaths(cmds []string) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		var f []string
		for _, w := range strings.Fields(c) {
			if !strings.Contains(w, "/") {
				f = append(f, w)
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// mounts reports whether the service mounts deploy/f, or a directory of
// deploy/ holding it.
func mounts(s harness.ComposeService, f string) bool {
	for _, v := range s.Volumes {
		src, _, _ := strings.Cut(v, ":")
		src = strings.TrimPrefix(src, "./")
		if src == "deploy/"+f || strings.HasPrefix("deploy/"+f, strings.TrimSuffix(src, "/")+"/") {
			return true
		}
	}
	return false
}

// wiring checks that the parts find each other: HAProxy checks the nodes
// where Patroni says they are, Patroni and etcd agree on etcd's members,
// the instances and the deploy step reach PostgreSQL through HAProxy, and
// nginx and Prometheus reach the instances. host names a service's host
// (compose: its name; the cluster: loopback); env is every service's
// environment.
func wiring(env map[string]map[string]string, host func(service string) string, nginxUpstreams, promTargets []string) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	port := func(addr string) string {
		_, p, err := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
		if err != nil {
			fail("%q is not host:port", addr)
		}
		return p
	}
	var etcdClients []string
	for i := 1; i <= etcdMembers; i++ {
		e := env[etcdName(i)]
		etcdClients = append(etcdClients, strings.TrimPrefix(e["ETCD_ADVERTISE_CLIENT_URLS"], "http://"))
		member := etcdName(i) + "=" + e["ETCD_INITIAL_ADVERTISE_PEER_URLS"]
		if !slices.Contains(strings.Split(e["ETCD_INITIAL_CLUSTER"], ","), member) {
			fail("%s: ETCD_INITIAL_CLUSTER %q lacks %s", etcdName(i), e["ETCD_INITIAL_CLUSTER"], member)
		}
		if want := host(etcdName(i)) + ":" + port(e["ETCD_LISTEN_CLIENT_URLS"]); want != etcdClients[i-1] {
			fail("%s advertises %s but listens on %s", etcdName(i), etcdClients[i-1], e["ETCD_LISTEN_CLIENT_URLS"])
		}
	}
	ha := env["haproxy"]
	for i := 1; i <= pgNodes; i++ {
		p := env[pgName(i)]
		if got := p["PATRONI_ETCD3_HOSTS"]; got != strings.Join(etcdClients, ",") {
			fail("%s: PATRONI_ETCD3_HOSTS %q, etcd's members advertise %q", pgName(i), got, strings.Join(etcdClients, ","))
		}
		if p["PATRONI_NAME"] != pgName(i) {
			fail("%s: PATRONI_NAME %q", pgName(i), p["PATRONI_NAME"])
		}
		pgAddr := host(pgName(i)) + ":" + port(p["PATRONI_POSTGRESQL_LISTEN"])
		if p["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] != pgAddr {
			fail("%s: PATRONI_POSTGRESQL_CONNECT_ADDRESS %q, it listens at %s", pgName(i), p["PATRONI_POSTGRESQL_CONNECT_ADDRESS"], pgAddr)
		}
		if got := ha[fmt.Sprintf("PG%d_ADDR", i)]; got != pgAddr {
			fail("haproxy: PG%d_ADDR %q, %s listens at %s", i, got, pgName(i), pgAddr)
		}
		apiPort := port(p["PATRONI_RESTAPI_LISTEN"])
		if got := ha[fmt.Sprintf("PG%d_API_PORT", i)]; got != apiPort {
			fail("haproxy: PG%d_API_PORT %q, %s's REST API listens on port %s", i, got, pgName(i), apiPort)
		}
		if want := host(pgName(i)) + ":" + apiPort; p["PATRONI_RESTAPI_CONNECT_ADDRESS"] != want {
			fail("%s: PATRONI_RESTAPI_CONNECT_ADDRESS %q, want %s", pgName(i), p["PATRONI_RESTAPI_CONNECT_ADDRESS"], want)
		}
	}
	primary := host("haproxy") + ":" + port(ha["HAPROXY_PRIMARY_BIND"])
	for name, e := range env {
		if raw, ok := e["DATABASE_URL"]; ok {
			u, err := url.Parse(raw)
			if err != nil || u.Host != primary {
				fail("%s: DATABASE_URL does not lead to HAProxy's %s", name, primary)
			}
		}
		if h, ok := e["PGHOST"]; ok && h+":"+e["PGPORT"] != primary {
			fail("%s: PGHOST:PGPORT %s:%s, HAProxy's primary is %s", name, h, e["PGPORT"], primary)
		}
	}
	var api, admin []string
	for i := 1; i <= servers; i++ {
		e := env[serverName(i)]
		api = append(api, host(serverName(i))+":"+e["MINIKART_SERVER_PORT"])
		admin = append(admin, host(serverName(i))+":"+e["MINIKART_ADMIN_PORT"])
	}
	if !slices.Equal(nginxUpstreams, api) {
		fail("nginx sends to %v, the instances listen at %v", nginxUpstreams, api)
	}
	if !slices.Equal(promTargets, admin) {
		fail("Prometheus scrapes %v, the instances' admin listeners are %v", promTargets, admin)
	}
	return errs
}

// interpolated is env with compose's ${NAME...} replaced by a value of the
// operator's.
func interpolated(env map[string]string) map[string]string {
	out := maps.Clone(env)
	for k, v := range out {
		out[k] = composeVar.ReplaceAllString(v, "operator-value")
	}
	return out
}

var (
	composeVar   = regexp.MustCompile(`\$\{[^}]*\}`)
	upstreamAddr = regexp.MustCompile(`(?m)^\s*server ([^\s;]+:\d+)`)
	targetList   = regexp.MustCompile(`targets: \[([^\]]*)\]`)
)

// addressesIn lists the nginx upstream servers and Prometheus targets in
// the files under dir (deploy/ or the cluster's copies).
func addressesIn(t *testing.T, dir string) (upstreams, targets []string) {
	t.Helper()
	n, err := os.ReadFile(filepath.Join(dir, "nginx", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range upstreamAddr.FindAllStringSubmatch(string(n), -1) {
		upstreams = append(upstreams, m[1])
	}
	p, err := os.ReadFile(filepath.Join(dir, "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if m := targetList.FindStringSubmatch(string(p)); m != nil {
		for _, s := range strings.Split(m[1], ",") {
			targets = append(targets, strings.Trim(strings.TrimSpace(s), `"`))
		}
	}
	return upstreams, targets
}

// TestPartsFindEachOther checks the wiring of both descriptions of the
// topology: compose's services by name, the cluster's on loopback.
func TestPartsFindEachOther(t *testing.T) {
	topo := clusterForComparison(t)
	topo.dir = t.TempDir()
	if err := topo.writeConfigs(); err != nil {
		t.Fatal(err)
	}
	clusterEnv := map[string]map[string]string{}
	for _, p := range topo.parts() {
		clusterEnv[p.name] = envMap(p.env)
	}
	for _, s := range topo.deploySteps() {
		clusterEnv[s.name] = envMap(s.env)
	}
	ups, targets := addressesIn(t, topo.dir)
	for _, err := range wiring(clusterEnv, func(string) string { return "127.0.0.1" }, ups, targets) {
		t.Errorf("the cluster: %v", err)
	}

	c := readComposeFile(t, topo.repo)
	composeEnv := map[string]map[string]string{}
	for name, s := range c.Services {
		composeEnv[name] = interpolated(s.Environment)
	}
	ups, targets = addressesIn(t, filepath.Join(topo.repo, "deploy"))
	for _, err := range wiring(composeEnv, func(s string) string { return s }, ups, targets) {
		t.Errorf("docker-compose.yml: %v", err)
	}
}

// TestWiringFindsAMiswiredPart: the check above fails on a part that
// points elsewhere.
func TestWiringFindsAMiswiredPart(t *testing.T) {
	topo := clusterForComparison(t)
	c := readComposeFile(t, topo.repo)
	ups, targets := addressesIn(t, filepath.Join(topo.repo, "deploy"))
	for _, tc := range []struct{ service, key, value string }{
		{"haproxy", "PG2_API_PORT", "8009"},
		{"pg-3", "PATRONI_ETCD3_HOSTS", "etcd-1:2379,etcd-2:2379"},
		{"server-2", "MINIKART_ADMIN_PORT", "6061"},
		{"etcd-2", "ETCD_ADVERTISE_CLIENT_URLS", "http://etcd-3:2379"},
		{"create-database", "PGPORT", "5432"},
	} {
		env := map[string]map[string]string{}
		for name, s := range c.Services {
			env[name] = interpolated(s.Environment)
		}
		env[tc.service][tc.key] = tc.value
		if errs := wiring(env, func(s string) string { return s }, ups, targets); len(errs) == 0 {
			t.Errorf("%s %s=%s: no error", tc.service, tc.key, tc.value)
		}
	}
}
