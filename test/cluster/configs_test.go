package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"minikart/test/internal/harness"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDeployConfigsWhatTheClusterRuns writes the configuration files the
// cluster runs with and has each program check its own: promtool the
// Prometheus configuration and the alert rules, nginx and HAProxy theirs.
// The cluster's copies differ from deploy/'s only in the addresses.
func TestDeployConfigsWhatTheClusterRuns(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	topo := &topology{dir: dir, repo: root, sec: secrets{SuperuserPassword: "s", ReplicationPassword: "r", AppPassword: "a", APIKey: "k"}}
	if err := topo.writeConfigs(); err != nil {
		t.Fatal(err)
	}
	check := func(name string, args ...string) {
		t.Helper()
		path, err := exec.LookPath(name)
		if err != nil {
			// An ordinary user's PATH often lacks /usr/sbin, where nginx
			// and HAProxy are.
			path = filepath.Join("/usr/sbin", name)
			if _, serr := os.Stat(path); serr != nil {
				t.Fatalf("%s is needed to check deploy/'s configuration (Debian: apt-get install -y prometheus nginx haproxy): %v", name, err)
			}
		}
		cmd := exec.Command(path, args...)
		env := append(os.Environ(), topo.haproxy().env...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	check("promtool", "check", "config", topo.path("prometheus", "prometheus.yml"))
	check("promtool", "check", "rules", filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	check("haproxy", "-c", "-q", "-f", topo.path("haproxy", "haproxy.cfg"))
	check("nginx", "-t", "-q", "-p", topo.path("nginx"), "-c", topo.path("nginx", "nginx.conf"), "-e", topo.path("nginx", "error.log"),
		"-g", "pid "+topo.path("nginx", "nginx.pid")+";")

	// Only the addresses differ from what deploy/ ships.
	for _, f := range []string{"nginx/nginx.conf", "prometheus/prometheus.yml"} {
		src, err := os.ReadFile(filepath.Join(root, "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(topo.path(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(src), "\n") {
			l := strings.TrimSpace(line)
			if l == "" || strings.Contains(l, "server-1") || strings.Contains(l, "server-2") || strings.Contains(l, "server-3") || strings.HasPrefix(l, "listen ") {
				continue
			}
			if !strings.Contains(string(got), line) {
				t.Errorf("%s: the cluster's copy lost the line %q", f, line)
			}
		}
	}
	for _, f := range []string{"patroni/patroni.yml", "haproxy/haproxy.cfg"} {
		src, _ := os.ReadFile(filepath.Join(root, "deploy", f))
		got, _ := os.ReadFile(topo.path(f))
		if len(src) == 0 || string(src) != string(got) {
			t.Errorf("%s: the cluster does not run deploy/'s file as it is", f)
		}
	}
}

// TestNginxConfForTheCluster rewrites the upstream and the listening
// address and fails on a file whose shape it does not know.
func TestNginxConfForTheCluster(t *testing.T) {
	src := "events {}\nhttp {\n    upstream u {\n        least_conn;\n        server a:8080 max_fails=3;\n        server b:8080 max_fails=3;\n    }\n    server {\n        listen 80;\n    }\n}\n"
	got, err := nginxConf([]byte(src), []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, "127.0.0.1:9", "/logs")
	if err != nil {
		t.Fatal(err)
	}
	want := "events {}\nhttp {\n    access_log /logs/access.log;\n" +
		"    client_body_temp_path /logs/client_body_temp;\n    proxy_temp_path /logs/proxy_temp;\n    fastcgi_temp_path /logs/fastcgi_temp;\n" +
		"    uwsgi_temp_path /logs/uwsgi_temp;\n    scgi_temp_path /logs/scgi_temp;\n    upstream u {\n        least_conn;\n        server 127.0.0.1:1 max_fails=3;\n        server 127.0.0.1:2 max_fails=3;\n        server 127.0.0.1:3 max_fails=3;\n    }\n    server {\n        listen 127.0.0.1:9;\n    }\n}\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{
		strings.Replace(src, "listen 80;", "", 1),
		strings.Replace(src, "server a:8080 max_fails=3;\n", "", 1) + "server c:1;\n",
		strings.ReplaceAll(src, ":8080", ""),
	} {
		if _, err := nginxConf([]byte(bad), []string{"x:1"}, "y:2", "/l"); err == nil {
			t.Errorf("no error for\n%s", bad)
		}
	}
}

func TestPrometheusConfForTheCluster(t *testing.T) {
	got, err := prometheusConf([]byte("scrape_configs:\n  - job_name: m\n    static_configs:\n      - targets: [\"a:1\", \"b:1\"]\n"), []string{"127.0.0.1:5", "127.0.0.1:6"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "scrape_configs:\n  - job_name: m\n    static_configs:\n      - targets: [\"127.0.0.1:5\", \"127.0.0.1:6\"]\n"; string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := prometheusConf([]byte("scrape_configs: []\n"), []string{"x:1"}); err == nil {
		t.Error("no error for a file without targets")
	}
}
