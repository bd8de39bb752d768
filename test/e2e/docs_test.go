//go:build e2e

// Package e2e drives the server's pages in a real browser.
package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"minikart/platform/apidoc"
	"minikart/test/internal/apitest"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// opblock matches one operation that Swagger UI rendered: its method class
// and, further on in the same block, the path it shows.
var opblock = regexp.MustCompile(`(?s)class="opblock opblock-(\w+)[^"]*"[^>]*>.*?data-path="([^"]*)"`)

func TestDocsPageRendersEveryOperation(t *testing.T) {
	browser := chromium(t)

	gin.SetMode(gin.TestMode)
	r := gin.New()
	var mu sync.Mutex
	served := map[string]int{}
	r.Use(func(c *gin.Context) {
		c.Next()
		mu.Lock()
		served[c.Request.URL.Path] = c.Writer.Status()
		mu.Unlock()
	})
	doc := apitest.AppDocument(t)
	apidoc.NewHandler(doc).Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
		"--user-data-dir="+t.TempDir(),
		// Every host but the test server is unreachable, so the page
		// renders only if all it needs comes from the server itself.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--virtual-time-budget=10000",
		"--dump-dom", srv.URL+apidoc.DocsPath,
	)
	dom, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish in time: %v", ctx.Err())
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("chromium: %v: %s", err, exit.Stderr)
		}
		t.Fatalf("chromium: %v", err)
	}

	rendered := map[string]bool{}
	for _, m := range opblock.FindAllStringSubmatch(string(dom), -1) {
		rendered[m[1]+" "+m[2]] = true
	}
	spec, err := doc.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			op := strings.ToLower(method) + " " + path
			if rendered[op] {
				continue
			}
			t.Errorf("operation %q not rendered; rendered %v", op, rendered)
		}
	}

	// The servers menu lets a reader try each version of the API.
	for _, server := range spec.Servers {
		if !strings.Contains(string(dom), `<option value="`+server.URL+`"`) {
			t.Errorf("servers menu lacks %s", server.URL)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, path := range []string{apidoc.DocsPath, apidoc.JSONPath, apidoc.DocsPath + "/swagger-ui-bundle.js"} {
		if served[path] != http.StatusOK {
			t.Errorf("browser fetch of %s: status %d, want 200", path, served[path])
		}
	}
}

// chromium returns the browser's path and fails the test, rather than
// skipping it, when the browser is not installed.
func chromium(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("chromium"); err == nil {
		return path
	}
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	t.Fatal("chromium not found: install it with `apt-get update && apt-get install -y chromium`")
	return ""
}
