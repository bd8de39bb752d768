package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minikart/platform/config"
)

// unsetenv removes name for the test, restoring it after.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the old value at cleanup
	os.Unsetenv(name)
}

// checkout makes a directory holding a .devdb/url of url ("" for none).
func checkout(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	if url != "" {
		if err := os.MkdirAll(filepath.Join(dir, ".devdb"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, DevURLFile), []byte(url+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestEachCheckoutUsesItsOwnDevelopmentDatabase(t *testing.T) {
	const files = "postgres://postgres@127.0.0.1:55432/minikart"
	one := "postgres://postgres@127.0.0.1:55433/minikart?sslmode=disable"
	two := "postgres://postgres@127.0.0.1:55434/minikart?sslmode=disable"
	cases := []struct {
		name      string
		env       string
		vars      map[string]string
		overrides map[string]any
		dir       string
		want      string
	}{
		{name: "first checkout", env: config.Development, dir: checkout(t, one), want: one},
		{name: "second checkout", env: config.Development, dir: checkout(t, two), want: two},
		{name: "no database recorded", env: config.Development, dir: checkout(t, ""), want: files},
		{name: "DATABASE_URL wins", env: config.Development, dir: checkout(t, one), vars: map[string]string{"DATABASE_URL": "postgres://x@db:5432/a"}, want: files},
		{name: "MINIKART_DATABASE_URL wins", env: config.Development, dir: checkout(t, one), vars: map[string]string{"MINIKART_DATABASE_URL": "postgres://x@db:5432/a"}, want: files},
		{name: "an override wins", env: config.Development, dir: checkout(t, one), overrides: map[string]any{"database.url": files}, want: files},
		{name: "production never reads it", env: config.Production, dir: checkout(t, one), want: files},
		{name: "test never reads it", env: config.Test, dir: checkout(t, one), want: files},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unsetenv(t, "DATABASE_URL")
			unsetenv(t, "MINIKART_DATABASE_URL")
			for k, v := range tc.vars {
				t.Setenv(k, v)
			}
			t.Chdir(tc.dir)
			src, err := config.Load(config.Options{Env: tc.env, Overrides: tc.overrides})
			if err != nil {
				t.Fatal(err)
			}
			// c.URL stands for whatever the layers resolved; only the
			// checkout's file may replace it.
			got, err := checkoutDatabase(Config{URL: files}, src)
			if err != nil || got.URL != tc.want {
				t.Fatalf("URL %q, %v; want %q", got.URL, err, tc.want)
			}
			if fromFile := got.URL != files; fromFile != strings.Contains(got.from, DevURLFile) {
				t.Errorf("from = %q for URL %q", got.from, got.URL)
			}
		})
	}
	t.Run("a file that holds no URL is an error", func(t *testing.T) {
		unsetenv(t, "DATABASE_URL")
		unsetenv(t, "MINIKART_DATABASE_URL")
		t.Chdir(checkout(t, "postgres://[::1"))
		src, err := config.Load(config.Options{Env: config.Development})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := checkoutDatabase(Config{URL: files}, src); err == nil || !strings.Contains(err.Error(), DevURLFile) {
			t.Errorf("err = %v, want one naming %s", err, DevURLFile)
		}
	})
}
