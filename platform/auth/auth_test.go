package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"minikart/platform/auth"
	"minikart/platform/httpserver"
	"minikart/platform/httpserver/servertest"
)

// guarded mounts GET /api/secret behind a middleware and records the
// principal of each request that gets through (atomically: a real server
// runs the handler on its own goroutine).
type guarded struct {
	mw      gin.HandlerFunc
	reached atomic.Int32
	seen    atomic.Value // the last principal id, "" for anonymous
}

func (g *guarded) Register(r gin.IRouter) {
	r.GET("/secret", g.mw, func(c *gin.Context) {
		g.reached.Add(1)
		p, _ := auth.PrincipalFrom(c.Request.Context())
		g.seen.Store(p.ID)
		c.Status(http.StatusNoContent)
	})
}

func newAuthenticator(t *testing.T, keys ...string) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Config{APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func serve(t *testing.T, g *guarded, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	e := servertest.Engine(t, zerolog.Nop(), g)
	req := httptest.NewRequest(http.MethodGet, "/api/secret", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return body.Error
}

func TestRequired(t *testing.T) {
	a := newAuthenticator(t, "shop-web:current-key", " shop-web:next-key ", "pos:pos-key", "", "  ")
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
		id     string
	}{
		{"no header", nil, 401, "UNAUTHORIZED", ""},
		{"an empty header", http.Header{"Api_key": {""}}, 401, "UNAUTHORIZED", ""},
		{"a wrong key", http.Header{"Api_key": {"old-key"}}, 403, "FORBIDDEN", ""},
		{"a key with a prefix of a real one", http.Header{"Api_key": {"current"}}, 403, "FORBIDDEN", ""},
		{"a key in the wrong case", http.Header{"Api_key": {"CURRENT-KEY"}}, 403, "FORBIDDEN", ""},
		{"the whole id:key entry", http.Header{"Api_key": {"shop-web:current-key"}}, 403, "FORBIDDEN", ""},
		{"the id alone", http.Header{"Api_key": {"shop-web"}}, 403, "FORBIDDEN", ""},
		{"the key under another header", http.Header{"Authorization": {"current-key"}}, 401, "UNAUTHORIZED", ""},
		{"the first key", http.Header{"Api_key": {"current-key"}}, 204, "", "shop-web"},
		{"a second key of the same id, trimmed in config", http.Header{"Api_key": {"next-key"}}, 204, "", "shop-web"},
		{"another id", http.Header{"Api_key": {"pos-key"}}, 204, "", "pos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &guarded{mw: a.Required()}
			rec := serve(t, g, tt.header)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			}
			if reached := g.reached.Load() == 1; reached != (tt.status == 204) {
				t.Fatalf("handler reached %d times", g.reached.Load())
			}
			if tt.status == 204 && g.seen.Load() != tt.id {
				t.Errorf("principal %q, want %q", g.seen.Load(), tt.id)
			}
		})
	}
}

func TestOptional(t *testing.T) {
	a := newAuthenticator(t, "shop-web:current-key")
	tests := []struct {
		name   string
		header http.Header
		status int
		id     string
	}{
		{"no header: anonymous", nil, 204, ""},
		{"an empty header: anonymous", http.Header{"Api_key": {""}}, 204, ""},
		{"a wrong key", http.Header{"Api_key": {"old-key"}}, 403, ""},
		{"a right key", http.Header{"Api_key": {"current-key"}}, 204, "shop-web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &guarded{mw: a.Optional()}
			rec := serve(t, g, tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 403 {
				if got := errorCode(t, rec); got != "FORBIDDEN" {
					t.Errorf("code = %s, want FORBIDDEN", got)
				}
				return
			}
			if g.seen.Load() != tt.id {
				t.Errorf("principal %q, want %q", g.seen.Load(), tt.id)
			}
		})
	}
}

func TestHeaderNameIsCaseInsensitive(t *testing.T) {
	a := newAuthenticator(t, "demo:apitest")
	for _, name := range []string{"api_key", "API_KEY", "Api_Key", "aPI_kEY"} {
		t.Run(name, func(t *testing.T) {
			g := &guarded{mw: a.Required()}
			e, err := httpserver.NewEngine(httpserver.EngineParams{
				Config:     httpserver.Config{RequestTimeout: 5 * time.Second},
				Log:        zerolog.Nop(),
				Registerer: prometheus.NewRegistry(),
				Routes:     []httpserver.Routes{g},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(e)
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

func TestBareKeysGetADerivedID(t *testing.T) {
	a := newAuthenticator(t, "apitest", "other")
	p1, ok1 := a.Authenticate("apitest")
	p2, ok2 := a.Authenticate("other")
	if !ok1 || !ok2 {
		t.Fatal("bare keys not accepted")
	}
	if !strings.HasPrefix(p1.ID, "fp:") || len(p1.ID) != len("fp:")+16 || p1.ID == p2.ID {
		t.Errorf("ids %q and %q, want two distinct fp:<16 hex>", p1.ID, p2.ID)
	}
	if strings.Contains(p1.ID, "apitest") {
		t.Errorf("id %q shows the key", p1.ID)
	}
	// The id depends on the key only, so every instance derives the same.
	again, _ := newAuthenticator(t, "other", "apitest").Authenticate("apitest")
	if again.ID != p1.ID {
		t.Errorf("id %q, then %q", p1.ID, again.ID)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want string // substring of the error; "" for none
	}{
		{"id:key entries", []string{"shop-web:s3cret", "pos:other"}, ""},
		{"a bare key", []string{"s3cret"}, ""},
		{"rotation: two keys under one id", []string{"shop-web:old", "shop-web:new"}, ""},
		{"a key holding ':' after the id", []string{"shop-web:a:b"}, ""},
		{"blanks around the parts", []string{" shop-web : s3cret "}, ""},
		{"no keys", nil, "at least one api key is required"},
		{"only blanks", []string{"", "  "}, "at least one api key is required"},
		{"an empty key", []string{"shop-web:"}, "api_keys[0]: the key after \"shop-web:\" is empty"},
		{"an empty id", []string{":s3cret"}, "api_keys[0]: the id before ':'"},
		{"an id with a space", []string{"shop web:s3cret"}, "api_keys[0]: the id before ':'"},
		{"one key under two ids", []string{"a:s3cret", "b:s3cret"}, `api_keys[1]: the same key is listed under ids "a" and "b"`},
		{"every bad entry at once", []string{"x:", "ok:k", ":y"}, "api_keys[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.Config{APIKeys: tt.keys}.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestAdmin(t *testing.T) {
	a, err := auth.New(auth.Config{APIKeys: []string{"shop-web:shop-key"}, AdminKeys: []string{"ops:admin-key", "ops:next-admin-key", "owner:owner-key"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
		id     string
	}{
		{"no header", nil, 401, "UNAUTHORIZED", ""},
		{"an unknown key", http.Header{"Api_key": {"nobody"}}, 401, "UNAUTHORIZED", ""},
		{"a shop key", http.Header{"Api_key": {"shop-key"}}, 403, "FORBIDDEN", ""},
		{"the admin key id alone", http.Header{"Api_key": {"ops"}}, 401, "UNAUTHORIZED", ""},
		{"an admin key", http.Header{"Api_key": {"admin-key"}}, 204, "", "ops"},
		{"a rotated admin key of the same id", http.Header{"Api_key": {"next-admin-key"}}, 204, "", "ops"},
		{"another admin", http.Header{"Api_key": {"owner-key"}}, 204, "", "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var admin atomic.Bool
			g := &guarded{mw: func(c *gin.Context) {
				a.Admin()(c)
				p, _ := auth.PrincipalFrom(c.Request.Context())
				admin.Store(p.Admin)
			}}
			rec := serve(t, g, tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
				return
			}
			if g.seen.Load() != tt.id || !admin.Load() {
				t.Errorf("principal %q (admin %v), want admin %q", g.seen.Load(), admin.Load(), tt.id)
			}
		})
	}
	t.Run("an admin key on a shop route", func(t *testing.T) {
		rec := serve(t, &guarded{mw: a.Required()}, http.Header{"Api_key": {"admin-key"}})
		if rec.Code != 403 {
			t.Errorf("status = %d, want 403", rec.Code)
		}
	})
	t.Run("no admin keys configured", func(t *testing.T) {
		rec := serve(t, &guarded{mw: newAuthenticator(t, "shop-web:shop-key").Admin()}, http.Header{"Api_key": {"admin-key"}})
		if rec.Code != 401 {
			t.Errorf("status = %d, want 401", rec.Code)
		}
	})
}

func TestConfigValidateAdminKeys(t *testing.T) {
	tests := []struct {
		name  string
		admin []string
		want  string
	}{
		{"none", nil, ""},
		{"id:key entries", []string{"ops:s3cret"}, ""},
		{"an empty key", []string{"ops:"}, `admin_keys[0]: the key after "ops:" is empty`},
		{"a shop key again", []string{"ops:shop-s3cret"}, `admin key id "ops" has the same key as api key id "shop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.Config{APIKeys: []string{"shop:shop-s3cret"}, AdminKeys: tt.admin}.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}
