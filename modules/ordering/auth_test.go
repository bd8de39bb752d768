package ordering

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
)

// keyGuarded mounts GET /api/secret behind requireAPIKey and counts the
// requests that get through (atomically: a real server runs the handler on
// its own goroutine).
type keyGuarded struct {
	keys    []string
	reached atomic.Int32
}

func (k *keyGuarded) Register(r gin.IRouter) {
	r.GET("/secret", requireAPIKey(k.keys), func(c *gin.Context) {
		k.reached.Add(1)
		c.Status(http.StatusNoContent)
	})
}

func TestRequireAPIKey(t *testing.T) {
	keys := []string{"current-key", " next-key ", "", "  "}
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
	}{
		{"no header", nil, 401, "UNAUTHORIZED"},
		{"an empty header", http.Header{"Api_key": {""}}, 401, "UNAUTHORIZED"},
		{"a wrong key", http.Header{"Api_key": {"old-key"}}, 403, "FORBIDDEN"},
		{"a key with a prefix of a real one", http.Header{"Api_key": {"current"}}, 403, "FORBIDDEN"},
		{"a key in the wrong case", http.Header{"Api_key": {"CURRENT-KEY"}}, 403, "FORBIDDEN"},
		{"the key under another header", http.Header{"Authorization": {"current-key"}}, 401, "UNAUTHORIZED"},
		{"the first key", http.Header{"Api_key": {"current-key"}}, 204, ""},
		{"a second key, trimmed in config", http.Header{"Api_key": {"next-key"}}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &keyGuarded{keys: keys}
			rec := serve(newTestEngine(t, g), http.MethodGet, "/api/secret", "", tt.header)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			}
			if reached := g.reached.Load() == 1; reached != (tt.status == 204) {
				t.Errorf("handler reached %d times", g.reached.Load())
			}
		})
	}
}

func TestRequireAPIKeyHeaderNameIsCaseInsensitive(t *testing.T) {
	for _, name := range []string{"api_key", "API_KEY", "Api_Key", "aPI_kEY"} {
		t.Run(name, func(t *testing.T) {
			g := &keyGuarded{keys: []string{"apitest"}}
			srv := httptest.NewServer(newTestEngine(t, g))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/secret", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Set the map directly so the name goes on the wire as written.
			req.Header[name] = []string{"apitest"}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNoContent || g.reached.Load() != 1 {
				t.Errorf("status = %d, reached %d", res.StatusCode, g.reached.Load())
			}
		})
	}
}

func TestRequireAPIKeyWithoutKeysRefusesEveryone(t *testing.T) {
	for _, key := range []string{"apitest", " ", "\t"} {
		t.Run(key, func(t *testing.T) {
			g := &keyGuarded{keys: []string{"", "  "}}
			rec := serve(newTestEngine(t, g), http.MethodGet, "/api/secret", "", http.Header{"Api_key": {key}})
			if rec.Code != http.StatusForbidden || g.reached.Load() != 0 {
				t.Errorf("status = %d, reached %d", rec.Code, g.reached.Load())
			}
		})
	}
}
