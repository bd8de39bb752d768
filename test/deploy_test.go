package test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/joho/godotenv"

	"minikart/test/internal/harness"
)

// dockerfile is the parts of the Dockerfile the image's behaviour rests on.
type dockerfile struct {
	buildRun   string            // the build stage's RUN that compiles the server
	copies     map[string]string // runtime COPY destination -> repository source
	binaryFrom string            // where the runtime stage copies the binary from
	user       string
	env        []string
	expose     []string
	entrypoint string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(repoPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{copies: map[string]string{}}
	stage := 0
	var logical []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	for _, l := range logical {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			stage++
		case "RUN":
			if stage == 1 && strings.Contains(l, "build") && !strings.Contains(l, "apt-get") && !strings.Contains(l, "mod download") {
				d.buildRun = strings.Join(f[1:], " ")
			}
		case "COPY":
			if stage == 2 && strings.HasPrefix(f[1], "--from=build") {
				d.binaryFrom = f[2]
			} else if stage == 2 {
				d.copies[f[2]] = f[1]
			}
		case "USER":
			d.user = f[1]
		case "ENV":
			for _, kv := range f[1:] {
				if kv != "\\" {
					d.env = append(d.env, kv)
				}
			}
		case "EXPOSE":
			if stage == 2 {
				d.expose = append(d.expose, f[1:]...)
			}
		case "ENTRYPOINT":
			d.entrypoint = l
		}
	}
	if d.buildRun == "" || d.binaryFrom == "" || d.user == "" {
		t.Fatalf("Dockerfile: build %q, binary %q, user %q: a part this test relies on is missing", d.buildRun, d.binaryFrom, d.user)
	}
	return d
}

// TestDockerImageIsTheMakeBuild builds what the Dockerfile builds, the way it
// builds it, lays it out as the image does and checks that production
// configuration validates there: the same binary flags as `make build`, a
// non-root user, and every file the image copies present in the repository.
func TestDockerImageIsTheMakeBuild(t *testing.T) {
	d := readDockerfile(t)
	m := regexp.MustCompile(`^make build BIN=(\S+)$`).FindStringSubmatch(d.buildRun)
	if m == nil {
		t.Fatalf("the image compiles with %q; want `make build BIN=…`, so its flags are the Makefile's", d.buildRun)
	}
	if d.binaryFrom != m[1] {
		t.Errorf("the runtime stage copies %s, but the build wrote %s", d.binaryFrom, m[1])
	}
	df, _ := os.ReadFile(repoPath("Dockerfile"))
	if !regexp.MustCompile(`useradd [^\n]*--uid (\d+)[^\n]* `+regexp.QuoteMeta(d.user)+`\b`).Match(df) || d.user == "root" {
		t.Errorf("USER %s is not a non-root user the image creates", d.user)
	}
	if !strings.Contains(string(df), "libisal-dev") || !regexp.MustCompile(`install[^\n]* isal`).Match(df) {
		t.Errorf("the build stage must install libisal-dev (the linked decoder) and the runtime isal (its library and igzip)")
	}

	app := filepath.Join(t.TempDir(), "app")
	for dst, src := range d.copies {
		if !strings.HasPrefix(dst, "/app/") {
			t.Fatalf("COPY %s %s: outside /app", src, dst)
		}
		if err := os.CopyFS(filepath.Join(app, strings.TrimPrefix(dst, "/app/")), os.DirFS(repoPath(src))); err != nil {
			t.Fatalf("COPY %s: %v", src, err)
		}
	}
	bin := filepath.Join(app, "minikart")
	build := exec.Command("make", "-s", "build", "BIN="+bin)
	build.Dir = repoPath("")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "-trimpath=true") {
		t.Errorf("make build is not -trimpath:\n%s", info)
	}
	if _, err := os.Stat("/usr/include/isa-l/igzip_lib.h"); err == nil && !strings.Contains(string(info), "-tags=isal") {
		t.Errorf("libisal-dev is installed but make build did not link the ISA-L decoder:\n%s", info)
	}

	// The servers' environment in docker-compose.yml, with the operator's
	// key set and the image's /app in the test's directory.
	if err := os.MkdirAll(filepath.Join(app, "index"), 0o755); err != nil {
		t.Fatal(err)
	}
	composeEnv := environ(t, readCompose(t).Services["server-1"], map[string]string{
		"MINIKART_AUTH_API_KEYS": "shop-web:a-real-secret-of-some-length",
		"APP_DB_PASSWORD":        "0123456789abcdef",
	})
	validate := exec.Command(bin, "config", "validate")
	validate.Dir = app
	validate.Env = append(os.Environ(), d.env...)
	for _, kv := range composeEnv {
		validate.Env = append(validate.Env, strings.ReplaceAll(kv, "/app/", app+"/"))
	}
	validate.Env = append(validate.Env, "MINIKART_CONFIG_DIR=")
	if out, err := validate.CombinedOutput(); err != nil {
		t.Errorf("config validate in the image layout (ENV %v) with compose's environment %v: %v\n%s", d.env, composeEnv, err, out)
	}

	// The port: what the image EXPOSEs is where the server listens, and
	// either variable given at `docker run` moves it, not one that the
	// image's own ENV silently overrides.
	port := func(extra ...string) string {
		t.Helper()
		cmd := exec.Command(bin, "config", "print")
		cmd.Dir = app
		// The variables are removed, not set empty: an empty one sets its
		// key (and is an error for a port).
		cmd.Env = append(environWithout("SERVER_PORT", "MINIKART_SERVER_PORT", "MINIKART_CONFIG_DIR"),
			"DATABASE_URL=postgres://minikart:secret@db.invalid:5432/minikart",
			"MINIKART_AUTH_API_KEYS=shop-web:a-real-secret-of-some-length",
			"MINIKART_SERVER_PUBLIC_URL=https://shop.example")
		cmd.Env = append(append(cmd.Env, d.env...), extra...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("config print %v: %v\n%s", extra, err, out)
		}
		m := regexp.MustCompile(`(?m)^server\.port = (\S+)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("config print shows no server.port:\n%s", out)
		}
		return string(m[1])
	}
	if got := port(); len(d.expose) != 1 || d.expose[0] != got && d.expose[0] != got+"/tcp" {
		t.Errorf("the image EXPOSEs %v but the server listens on %s", d.expose, got)
	}
	for _, v := range []string{"SERVER_PORT", "MINIKART_SERVER_PORT"} {
		if got := port(v + "=9123"); got != "9123" {
			t.Errorf("docker run -e %s=9123: the server listens on %s (the image's ENV %v wins over it)", v, got, d.env)
		}
	}
}

func readCompose(t *testing.T) harness.Compose {
	t.Helper()
	c, err := harness.ReadCompose(repoPath(""))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// composeVar matches compose's ${NAME}, ${NAME:-default} and ${NAME:?error}.
var composeVar = regexp.MustCompile(`\$\{(\w+)(?::([-?])([^}]*))?\}`)

// environ returns the service's environment as NAME=value, interpolated as
// compose does with the operator's variables set.
func environ(t *testing.T, s harness.ComposeService, operator map[string]string) []string {
	t.Helper()
	var out []string
	for name, val := range s.Environment {
		val = composeVar.ReplaceAllStringFunc(val, func(m string) string {
			sub := composeVar.FindStringSubmatch(m)
			if v, ok := operator[sub[1]]; ok {
				return v
			}
			if sub[2] == "?" {
				t.Errorf("%s: compose refuses to start without %s: %s", name, sub[1], sub[3])
			}
			return sub[3]
		})
		out = append(out, name+"="+val)
	}
	sort.Strings(out)
	return out
}

// TestComposeRequiresTheOperatorsKey: compose runs production, so it takes
// the api keys from the operator, with no default to fall back on, and sets
// what production requires.
func TestComposeRequiresTheOperatorsKey(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"deploy", "server-1", "server-2"} {
		env := c.Services[name].Environment
		if env["MINIKART_ENV"] != "production" {
			t.Errorf("%s: MINIKART_ENV %q, want production", name, env["MINIKART_ENV"])
		}
		keys := composeVar.FindStringSubmatch(env["MINIKART_AUTH_API_KEYS"])
		if keys == nil || keys[0] != env["MINIKART_AUTH_API_KEYS"] || keys[1] != "MINIKART_AUTH_API_KEYS" || keys[2] != "?" || !strings.Contains(keys[3], "MINIKART_AUTH_API_KEYS") {
			t.Errorf("%s: MINIKART_AUTH_API_KEYS is %q, want ${MINIKART_AUTH_API_KEYS:?<a message naming it>}", name, env["MINIKART_AUTH_API_KEYS"])
		}
		if _, ok := env["API_KEY"]; ok {
			t.Errorf("%s: sets API_KEY as well as MINIKART_AUTH_API_KEYS", name)
		}
		for v, val := range env {
			for _, m := range composeVar.FindAllStringSubmatch(val, -1) {
				if m[2] == "-" && strings.Contains(m[3], "apitest") {
					t.Errorf("%s: %s falls back to the demo key: %q", name, v, val)
				}
			}
		}
		if env["MINIKART_SERVER_PUBLIC_URL"] == "" {
			t.Errorf("%s: no MINIKART_SERVER_PUBLIC_URL, which production requires", name)
		}
	}
	// Compose reads .env for its ${...}: .env.example lists each one, so
	// the operator's one file serves compose and the binary alike.
	example, err := godotenv.Read(repoPath(".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range c.Services {
		for v, val := range svc.Environment {
			for _, m := range composeVar.FindAllStringSubmatch(val, -1) {
				if _, ok := example[m[1]]; !ok {
					t.Errorf("%s: compose reads %s, which .env.example does not list", v, m[1])
				}
			}
		}
	}
}

// TestDockerignoreKeepsLocalStateOut: `COPY . .` sends the build context, so
// .dockerignore must leave out the history, local binaries, generated coupon
// data, coupon indexes built on this machine and secrets, and keep every
// file the build and the image need.
func TestDockerignoreKeepsLocalStateOut(t *testing.T) {
	b, err := os.ReadFile(repoPath(".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []*regexp.Regexp
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: %q: this test's matcher does not know exceptions; list what to leave out instead", line)
		}
		patterns = append(patterns, dockerignorePattern(strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")))
	}
	ignored := func(path string) bool {
		// A pattern that matches a directory leaves out all below it.
		for p := path; p != "."; p = filepath.Dir(p) {
			for _, re := range patterns {
				if re.MatchString(p) {
					return true
				}
			}
		}
		return false
	}
	for _, p := range []string{".git/HEAD", "bin/minikart", "data/generated/real-0.01/couponbase1.gz",
		"data/coupons/coupons.idx", "data/coupons/coupons.idx.lock", "data/coupons/coupons.idx.tmp123",
		".devdb/postgresql.conf", ".env", "loadtest-report.json", "minikart"} {
		if !ignored(p) {
			t.Errorf(".dockerignore sends %s into the build", p)
		}
	}
	d := readDockerfile(t)
	need := []string{"go.mod", "go.sum", "Makefile", "main.go", "modules/modules.go", "configs/embed.go",
		"migrations/0001_catalog_products.up.sql"}
	for _, src := range d.copies {
		err := filepath.WalkDir(repoPath(src), func(path string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(repoPath(""), path)
				if !strings.Contains(filepath.Base(rel), ".idx") { // local state, not the image's
					need = append(need, filepath.ToSlash(rel))
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range need {
		if ignored(p) {
			t.Errorf(".dockerignore leaves out %s, which the image needs", p)
		}
	}
}

// TestComposePortsAgree: nginx sends to the port the image listens on, and
// compose sets the server's port through at most one variable.
func TestComposePortsAgree(t *testing.T) {
	d := readDockerfile(t)
	if len(d.expose) != 1 {
		t.Fatalf("the image EXPOSEs %v; want one port", d.expose)
	}
	port := strings.TrimSuffix(d.expose[0], "/tcp")
	conf, err := os.ReadFile(repoPath("deploy/nginx/nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	upstreams := regexp.MustCompile(`server (server-\d+):(\d+)`).FindAllStringSubmatch(string(conf), -1)
	if len(upstreams) == 0 {
		t.Fatal("deploy/nginx/nginx.conf names no server-N upstream")
	}
	for _, u := range upstreams {
		if u[2] != port {
			t.Errorf("nginx sends to %s:%s, but the image listens on %s", u[1], u[2], port)
		}
	}
	compose, err := os.ReadFile(repoPath("docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s+SERVER_PORT:`).Match(compose) && regexp.MustCompile(`(?m)^\s+MINIKART_SERVER_PORT:`).Match(compose) {
		t.Error("docker-compose.yml sets both SERVER_PORT and MINIKART_SERVER_PORT; MINIKART_SERVER_PORT silently wins")
	}
}

// dockerignorePattern is a .dockerignore line as Docker matches it: against
// the path from the context's root, * and ? within one path element, ** across
// any number of them.
func dockerignorePattern(p string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			re.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			re.WriteString(".*")
			i++
		case p[i] == '*':
			re.WriteString("[^/]*")
		case p[i] == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String())
}

// environWithout is this process's environment without the named variables.
func environWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			env = append(env, kv)
		}
	}
	return env
}
