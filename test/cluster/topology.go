package main

import (
	"fmt"
	"net"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// The topology: every part the cluster runs, how it is started and where it
// listens. One definition serves the loopback cluster (`make cluster`, the
// chaos test) and is compared with docker-compose.yml.

// Members of each replicated tier.
const (
	etcdMembers = 3
	pgNodes     = 3
	servers     = 3
)

// Where the parts listen on loopback: one port range, 18800-18899.
const (
	basePort       = 18800
	etcdClientPort = basePort + 0  // + member: 18801-18803
	etcdPeerPort   = basePort + 10 // + member: 18811-18813
	pgPort         = basePort + 20 // + node: 18821-18823
	patroniPort    = basePort + 30 // + node: 18831-18833
	haproxyPort    = basePort + 40 // the primary, whichever node it is
	haproxyStats   = basePort + 41
	serverPort     = basePort + 50 // + instance: 18851-18853
	adminPort      = basePort + 60 // + instance: 18861-18863
	nginxPort      = basePort + 70
	prometheusPort = basePort + 80
	etcdLinkPort   = basePort + 90 // + (node-1)*3 + member: 18891-18899, the chaos test's links
)

// Database names and roles. The passwords and the api key are secrets,
// generated at the first start and kept in the cluster's directory.
const (
	database      = "minikart"
	appUser       = "minikart"
	superUser     = "postgres"
	replUser      = "replicator"
	apiKeyID      = "shop"
	patroniBinary = "/usr/bin/patroni"
)

// part is one process of the cluster.
type part struct {
	name string
	// user is the system user it runs as when the cluster is started by
	// root; empty for the invoking user.
	user string
	path string
	args []string
	// env is its whole environment beyond PATH, HOME and LANG.
	env []string
	// dir is its working directory.
	dir string
	// owns are the directories it writes, handed to user.
	owns []string
	// listens says what it serves where, for the listing.
	listens []listen
	// configs are the files of deploy/ it reads, as the cluster writes
	// them (writeConfigs) and compose mounts them.
	configs []string
}

// step is one command of the deploy step, run once before the instances
// start (compose: a one-shot service of the same name).
type step struct {
	name string
	// service is compose's one-shot service that runs it.
	service string
	args    []string
	env     []string
}

type listen struct{ what, addr string }

// secrets are the cluster's credentials.
type secrets struct {
	SuperuserPassword   string
	ReplicationPassword string
	AppPassword         string
	APIKey              string
}

// topology is the cluster laid out in dir, with bin the minikart binary and
// repo the checkout (for the coupon files).
type topology struct {
	dir, bin, repo string
	// pgBin holds PostgreSQL's server binaries (pgtest.BinDir).
	pgBin string
	sec   secrets
	// serverEnv is added to every minikart instance's environment (the
	// chaos test's coupon limit).
	serverEnv []string
	// multiHost has the instances find the primary themselves, from a
	// URL naming every node, instead of through HAProxy.
	multiHost bool
	// viaLinks has each Patroni node reach etcd through links of its own
	// (partition.go), which the chaos test cuts to partition a node.
	viaLinks bool
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func etcdName(i int) string   { return fmt.Sprintf("etcd-%d", i) }
func pgName(i int) string     { return fmt.Sprintf("pg-%d", i) }
func serverName(i int) string { return fmt.Sprintf("server-%d", i) }
func (t *topology) path(p ...string) string {
	return filepath.Join(append([]string{t.dir}, p...)...)
}

// etcdHosts lists every member's client address, host:port.
func etcdHosts() []string {
	var h []string
	for i := 1; i <= etcdMembers; i++ {
		h = append(h, hostPort(etcdClientPort+i))
	}
	return h
}

func (t *topology) etcd(i int) part {
	name := etcdName(i)
	var initial []string
	for j := 1; j <= etcdMembers; j++ {
		initial = append(initial, fmt.Sprintf("%s=http://%s", etcdName(j), hostPort(etcdPeerPort+j)))
	}
	client, peer := "http://"+hostPort(etcdClientPort+i), "http://"+hostPort(etcdPeerPort+i)
	return part{
		name: name, user: systemUser("etcd"), path: "/usr/bin/etcd", dir: t.path(name),
		owns: []string{t.path(name)},
		env: []string{
			"ETCD_NAME=" + name,
			"ETCD_DATA_DIR=" + t.path(name, "data"),
			"ETCD_LISTEN_CLIENT_URLS=" + client,
			"ETCD_ADVERTISE_CLIENT_URLS=" + client,
			"ETCD_LISTEN_PEER_URLS=" + peer,
			"ETCD_INITIAL_ADVERTISE_PEER_URLS=" + peer,
			"ETCD_INITIAL_CLUSTER=" + strings.Join(initial, ","),
			"ETCD_INITIAL_CLUSTER_STATE=new",
			"ETCD_INITIAL_CLUSTER_TOKEN=minikart",
			"ETCD_LOG_LEVEL=warn",
		},
		listens: []listen{{"client", client}, {"peer", peer}},
	}
}

func (t *topology) patroni(i int) part {
	name := pgName(i)
	etcd := []string{"PATRONI_ETCD3_HOSTS=" + strings.Join(etcdHosts(), ",")}
	if t.viaLinks {
		var links []string
		for j := 1; j <= etcdMembers; j++ {
			links = append(links, etcdLinkAddr(i, j))
		}
		// As proxies: Patroni would otherwise learn the members' own
		// addresses from etcd and go round the links.
		etcd = []string{"PATRONI_ETCD3_HOSTS=" + strings.Join(links, ","), "PATRONI_ETCD3_USE_PROXIES=true"}
	}
	return part{
		name: name, user: "postgres", path: patroniBinary, args: []string{t.path("patroni", "patroni.yml")}, dir: t.path(name),
		owns: []string{t.path(name)}, configs: []string{"patroni/patroni.yml"},
		env: append([]string{
			"PATRONI_NAME=" + name,
			"PATRONI_RESTAPI_LISTEN=" + hostPort(patroniPort+i),
			"PATRONI_RESTAPI_CONNECT_ADDRESS=" + hostPort(patroniPort+i),
			"PATRONI_POSTGRESQL_LISTEN=" + hostPort(pgPort+i),
			"PATRONI_POSTGRESQL_CONNECT_ADDRESS=" + hostPort(pgPort+i),
			"PATRONI_POSTGRESQL_DATA_DIR=" + t.path(name, "data"),
			"PATRONI_POSTGRESQL_PGPASS=" + t.path(name, "pgpass"),
			"PATRONI_POSTGRESQL_BIN_DIR=" + t.pgBin,
			"PATRONI_SUPERUSER_USERNAME=" + superUser,
			"PATRONI_SUPERUSER_PASSWORD=" + t.sec.SuperuserPassword,
			"PATRONI_REPLICATION_USERNAME=" + replUser,
			"PATRONI_REPLICATION_PASSWORD=" + t.sec.ReplicationPassword,
		}, etcd...),
		listens: []listen{{"postgres", hostPort(pgPort + i)}, {"patroni", "http://" + hostPort(patroniPort+i)}},
	}
}

func (t *topology) haproxy() part {
	env := []string{
		"HAPROXY_PRIMARY_BIND=" + hostPort(haproxyPort),
		"HAPROXY_STATS_BIND=" + hostPort(haproxyStats),
	}
	for i := 1; i <= pgNodes; i++ {
		env = append(env, fmt.Sprintf("PG%d_ADDR=%s", i, hostPort(pgPort+i)), fmt.Sprintf("PG%d_API_PORT=%d", i, patroniPort+i))
	}
	return part{
		name: "haproxy", user: systemUser("haproxy"), path: "/usr/sbin/haproxy",
		args: []string{"-db", "-f", t.path("haproxy", "haproxy.cfg")}, dir: t.path("haproxy"), owns: []string{t.path("haproxy")},
		configs: []string{"haproxy/haproxy.cfg"},
		env:     env,
		listens: []listen{{"primary", hostPort(haproxyPort)}, {"stats", "http://" + hostPort(haproxyStats) + "/stats"}},
	}
}

// databaseURL is the URL every instance writes orders through: HAProxy's
// port, which leads to the primary of the moment, or with multiHost every
// node, for libpq-style host selection (target_session_attrs=read-write).
func (t *topology) databaseURL() string {
	if t.multiHost {
		var hosts []string
		for i := 1; i <= pgNodes; i++ {
			hosts = append(hosts, hostPort(pgPort+i))
		}
		return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&target_session_attrs=read-write",
			appUser, t.sec.AppPassword, strings.Join(hosts, ","), database)
	}
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", appUser, t.sec.AppPassword, hostPort(haproxyPort), database)
}

// publicURL is where clients reach the cluster: nginx.
func publicURL() string { return "http://" + hostPort(nginxPort) }

// serverEnvironment is a minikart instance's environment (i = 0: the one-off
// commands, migrate and coupons build).
func (t *topology) serverEnvironment(i int) []string {
	var files []string
	for j := 1; j <= 3; j++ {
		files = append(files, filepath.Join(t.repo, "data", "coupons", fmt.Sprintf("couponbase%d.gz", j)))
	}
	env := []string{
		"MINIKART_ENV=production",
		"DATABASE_URL=" + t.databaseURL(),
		"MINIKART_AUTH_API_KEYS=" + apiKeyID + ":" + t.sec.APIKey,
		"MINIKART_SERVER_PUBLIC_URL=" + publicURL(),
		"MINIKART_SERVER_HOST=127.0.0.1",
		"MINIKART_SERVER_TRUSTED_PROXIES=127.0.0.1",
		"MINIKART_ADMIN_HOST=127.0.0.1",
		"MINIKART_PROMO_FILES=" + strings.Join(files, ","),
		"MINIKART_PROMO_INDEX_PATH=" + t.path("coupons", "coupons.idx"),
	}
	if i > 0 {
		env = append(env, fmt.Sprintf("MINIKART_SERVER_PORT=%d", serverPort+i), fmt.Sprintf("MINIKART_ADMIN_PORT=%d", adminPort+i))
	}
	return append(env, t.serverEnv...)
}

func (t *topology) server(i int) part {
	name := serverName(i)
	return part{
		name: name, path: t.bin, args: []string{"serve"}, dir: t.path(name),
		env: t.serverEnvironment(i),
		listens: []listen{
			{"api", "http://" + hostPort(serverPort+i)},
			{"admin", "http://" + hostPort(adminPort+i) + "/metrics"},
		},
	}
}

func (t *topology) nginx() part {
	d := t.path("nginx")
	return part{
		name: "nginx", path: "/usr/sbin/nginx", dir: d,
		args: []string{"-p", d, "-c", filepath.Join(d, "nginx.conf"), "-e", filepath.Join(d, "error.log"),
			"-g", "daemon off; pid " + filepath.Join(d, "nginx.pid") + ";"},
		listens: []listen{{"api", publicURL()}},
		configs: []string{"nginx/nginx.conf"},
	}
}

func (t *topology) prometheus() part {
	d := t.path("prometheus")
	return part{
		name: "prometheus", user: systemUser("prometheus"), path: "/usr/bin/prometheus", dir: d, owns: []string{d},
		args: []string{
			"--config.file=" + filepath.Join(d, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(d, "data"),
			"--web.listen-address=" + hostPort(prometheusPort),
			"--log.level=warn",
		},
		listens: []listen{{"ui", "http://" + hostPort(prometheusPort)}},
		configs: []string{"prometheus/prometheus.yml", "prometheus/alerts.yml"},
	}
}

// deploySteps is the deploy step, in order: the application's role and
// database, through HAProxy as the superuser (deploy/'s script), then the
// schema and the coupon index.
func (t *topology) deploySteps() []step {
	return []step{
		{name: "create-database", service: "create-database", args: []string{"sh", filepath.Join(t.repo, "deploy", "patroni", "create-app-database.sh")}, env: []string{
			"PGHOST=127.0.0.1",
			fmt.Sprintf("PGPORT=%d", haproxyPort),
			"PGUSER=" + superUser,
			"PGPASSWORD=" + t.sec.SuperuserPassword,
			"PGCONNECT_TIMEOUT=2",
			"APP_DB_USER=" + appUser,
			"APP_DB_NAME=" + database,
			"APP_DB_PASSWORD=" + t.sec.AppPassword,
		}},
		{name: "migrate", service: "deploy", args: []string{t.bin, "migrate", "up"}, env: t.serverEnvironment(0)},
		{name: "coupons", service: "deploy", args: []string{t.bin, "coupons", "build"}, env: t.serverEnvironment(0)},
	}
}

// parts lists every part in start order.
func (t *topology) parts() []part {
	var ps []part
	for i := 1; i <= etcdMembers; i++ {
		ps = append(ps, t.etcd(i))
	}
	for i := 1; i <= pgNodes; i++ {
		ps = append(ps, t.patroni(i))
	}
	ps = append(ps, t.haproxy())
	for i := 1; i <= servers; i++ {
		ps = append(ps, t.server(i))
	}
	return append(ps, t.nginx(), t.prometheus())
}

func (t *topology) part(name string) (part, bool) {
	for _, p := range t.parts() {
		if p.name == name {
			return p, true
		}
	}
	return part{}, false
}

// systemUser returns name when that system user exists (the package
// created it), else empty: the part runs as the invoking user.
func systemUser(name string) string {
	if _, err := user.Lookup(name); err != nil {
		return ""
	}
	return name
}
