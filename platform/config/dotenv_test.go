package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func unsetAll(t *testing.T, names []string) {
	for _, name := range names {
		unsetEnv(t, name)
	}
}

// inDir runs the rest of the test in a fresh working directory holding
// .env with body (none when body is "").
func inDir(t *testing.T, body string) string {
	dir := t.TempDir()
	t.Chdir(dir)
	if body != "" {
		if err := os.WriteFile(".env", []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDotEnv(t *testing.T) {
	configDir := writeConfigs(t, map[string]string{"test.yaml": "server:\n  port: 8082\n"})
	load := func(t *testing.T) (*Source, serverSection, error) {
		t.Helper()
		src, err := Load(Options{Dir: configDir})
		if err != nil {
			return nil, serverSection{}, err
		}
		var s serverSection
		err = decodeAs(src, "server", &s, Alias("port", "SERVER_PORT"))
		return src, s, err
	}
	names := []string{"MINIKART_ENV", "MINIKART_ENV_FILE", "MINIKART_SERVER_PORT", "SERVER_PORT", "MINIKART_SERVER_HOST"}

	t.Run("./.env sets variables, the environment's own win", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "# the operator's settings\nMINIKART_SERVER_PORT=9100\nexport MINIKART_SERVER_HOST='0.0.0.0'\n")
		_, s, err := load(t)
		if err != nil || s.Port != 9100 || s.Host != "0.0.0.0" {
			t.Fatalf("port %d host %q, %v; want 9100 0.0.0.0 from .env", s.Port, s.Host, err)
		}
		t.Setenv("MINIKART_SERVER_PORT", "9200")
		if _, s, err := load(t); err != nil || s.Port != 9200 {
			t.Errorf("port %d, %v; want the environment's 9200", s.Port, err)
		}
		// A variable set to "" in the environment wins too.
		t.Setenv("MINIKART_SERVER_HOST", "")
		if _, s, err := load(t); err != nil || s.Host != "" {
			t.Errorf("host %q, %v; want the environment's empty one", s.Host, err)
		}
	})
	t.Run("MINIKART_ENV in .env picks the environment's file", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "MINIKART_ENV=test\n")
		if src, s, err := load(t); err != nil || src.Env() != Test || s.Port != 8082 {
			t.Errorf("port %d, %v; want test.yaml's 8082", s.Port, err)
		}
	})
	t.Run("MINIKART_ENV_FILE names another file", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "MINIKART_SERVER_PORT=9100\n")
		named := filepath.Join(t.TempDir(), "minikart.env")
		if err := os.WriteFile(named, []byte("SERVER_PORT=9300\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("MINIKART_ENV_FILE", named)
		if _, s, err := load(t); err != nil || s.Port != 9300 {
			t.Errorf("port %d, %v; want the named file's 9300 and ./.env not read", s.Port, err)
		}
	})
	t.Run("a missing named file is an error", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "")
		missing := filepath.Join(t.TempDir(), "prod.env")
		t.Setenv("MINIKART_ENV_FILE", missing)
		_, _, err := load(t)
		want := "config: MINIKART_ENV_FILE names " + missing + ", which does not exist"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
	t.Run("without .env nothing changes", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "")
		if _, s, err := load(t); err != nil || s.Port != 8080 {
			t.Errorf("port %d, %v", s.Port, err)
		}
	})
	t.Run("a line that does not parse names the file", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "MINIKART_SERVER_PORT=\"9100\n")
		if _, _, err := load(t); err == nil || !strings.HasPrefix(err.Error(), "config: .env: ") {
			t.Errorf("err = %v, want one naming .env", err)
		}
	})
	t.Run("a misspelt variable in .env is refused, naming the file", func(t *testing.T) {
		unsetAll(t, names)
		inDir(t, "MINIKART_SERVER_PROT=9100\nMINIKART_ORDERING_API_KEYS=shop:k\n")
		src, err := Load(Options{Dir: configDir})
		if err != nil {
			t.Fatal(err)
		}
		err = check(src, Section[serverSection]("server"))
		for _, want := range []string{
			"MINIKART_SERVER_PROT (in .env) is not a configuration variable; did you mean MINIKART_SERVER_PORT (server.port)?",
			"MINIKART_ORDERING_API_KEYS (in .env) was renamed: set MINIKART_AUTH_API_KEYS",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
		}
	})
}
