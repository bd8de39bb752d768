package test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is the parts of the Dockerfile the image's behaviour rests on.
type dockerfile struct {
	buildRun   string            // the build stage's RUN that compiles the server
	copies     map[string]string // runtime COPY destination -> repository source
	binaryFrom string            // where the runtime stage copies the binary from
	user       string
	env        []string
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

	validate := exec.Command(bin, "config", "validate")
	validate.Dir = app
	validate.Env = append(os.Environ(), d.env...)
	validate.Env = append(validate.Env,
		"DATABASE_URL=postgres://minikart:secret@db.invalid:5432/minikart",
		"MINIKART_AUTH_API_KEYS=shop-web:a-real-secret-of-some-length",
		"MINIKART_CONFIG_DIR=")
	if out, err := validate.CombinedOutput(); err != nil {
		t.Errorf("config validate in the image layout (ENV %v): %v\n%s", d.env, err, out)
	}
}
