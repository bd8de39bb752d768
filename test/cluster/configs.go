package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The cluster runs with the configuration files deploy/ ships. Patroni's
// and HAProxy's take their addresses from the environment and are used as
// they are; nginx's and Prometheus's name the compose services' addresses,
// so the cluster's copies differ from them in those addresses alone.

var (
	upstreamServer = regexp.MustCompile(`(?m)^([ \t]*)server [^\s;]+:\d+( [^;\n]*)?;\n`)
	nginxListen    = regexp.MustCompile(`(?m)^([ \t]*)listen \d+;`)
	nginxHTTP      = regexp.MustCompile(`(?m)^http \{\n`)
	promTargets    = regexp.MustCompile(`(?m)^([ \t]*- )targets: \[[^\]\n]*\]`)
)

// nginxConf is deploy/nginx/nginx.conf for the addresses given: the
// upstream's servers (keeping the first one's parameters) and the listening
// address; its logs go to logDir.
func nginxConf(src []byte, upstreams []string, listenAddr, logDir string) ([]byte, error) {
	s := string(src)
	locs := upstreamServer.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return nil, fmt.Errorf("nginx.conf: no upstream `server host:port ...;` line")
	}
	for i := 1; i < len(locs); i++ {
		if locs[i][0] != locs[i-1][1] {
			return nil, fmt.Errorf("nginx.conf: the upstream's server lines are not together")
		}
	}
	first := s[locs[0][0]:locs[0][1]]
	m := upstreamServer.FindStringSubmatch(first)
	var lines strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&lines, "%sserver %s%s;\n", m[1], u, m[2])
	}
	s = s[:locs[0][0]] + lines.String() + s[locs[len(locs)-1][1]:]
	if n := len(nginxListen.FindAllString(s, -1)); n != 1 {
		return nil, fmt.Errorf("nginx.conf: %d `listen PORT;` lines, want 1", n)
	}
	s = nginxListen.ReplaceAllString(s, "${1}listen "+listenAddr+";")
	if !nginxHTTP.MatchString(s) {
		return nil, fmt.Errorf("nginx.conf: no `http {` block")
	}
	// Its log and temporary files in its own directory, so that it runs
	// without root too.
	own := fmt.Sprintf("    access_log %s;\n", filepath.Join(logDir, "access.log"))
	for _, temp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		own += fmt.Sprintf("    %s_temp_path %s;\n", temp, filepath.Join(logDir, temp+"_temp"))
	}
	return []byte(nginxHTTP.ReplaceAllLiteralString(s, "http {\n"+own)), nil
}

// prometheusConf is deploy/prometheus/prometheus.yml scraping targets.
func prometheusConf(src []byte, targets []string) ([]byte, error) {
	s := string(src)
	if n := len(promTargets.FindAllString(s, -1)); n != 1 {
		return nil, fmt.Errorf("prometheus.yml: %d `- targets: [...]` lines, want 1", n)
	}
	quoted := make([]string, len(targets))
	for i, t := range targets {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	return []byte(promTargets.ReplaceAllString(s, "${1}targets: ["+strings.Join(quoted, ", ")+"]")), nil
}

// writeConfigs puts the configuration files of deploy/ the parts read
// (part.configs) into the cluster's directory, at the same relative paths,
// where their system users can read them (a checkout may sit in a private
// directory).
func (t *topology) writeConfigs() error {
	var ups, admins []string
	for i := 1; i <= servers; i++ {
		ups = append(ups, hostPort(serverPort+i))
		admins = append(admins, hostPort(adminPort+i))
	}
	rewrite := map[string]func([]byte) ([]byte, error){
		"nginx/nginx.conf": func(src []byte) ([]byte, error) {
			return nginxConf(src, ups, hostPort(nginxPort), t.path("nginx"))
		},
		"prometheus/prometheus.yml": func(src []byte) ([]byte, error) { return prometheusConf(src, admins) },
	}
	written := map[string]bool{}
	for _, p := range t.parts() {
		for _, name := range p.configs {
			if written[name] {
				continue
			}
			written[name] = true
			b, err := os.ReadFile(filepath.Join(t.repo, "deploy", name))
			if err != nil {
				return err
			}
			if f := rewrite[name]; f != nil {
				if b, err = f(b); err != nil {
					return err
				}
			}
			dst := t.path(name)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
