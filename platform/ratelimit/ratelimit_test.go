package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
)

func TestAllowTakesTokensPerKey(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Config{Enabled: true, RequestsPerSecond: 2, Burst: 3})
	l.now = func() time.Time { return now }
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v wait=%v, want refused with about 0.5 s to wait", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key shares the first key's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("a token did not come back after 0.5 s at 2/s")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("refused requests took tokens, or tokens came back too fast")
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Config{Enabled: true, RequestsPerSecond: 1, Burst: 1})
	l.now = func() time.Time { return now }
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k)
	}
	now = now.Add(idleAfter + 2*time.Minute)
	l.Allow("d")
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after a sweep, want only the fresh one", n)
	}
}

func TestMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	tests := []struct {
		name  string
		cfg   Config
		key   string
		codes []int
	}{
		{"disabled lets everything through", Config{Enabled: false}, "k", []int{200, 200, 200}},
		{"enabled refuses past the burst", Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 2}, "k", []int{200, 200, 429}},
		{"an empty key is not limited", Config{Enabled: true, RequestsPerSecond: 0.001, Burst: 1}, "", []int{200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := gin.New()
			e.Use(func(c *gin.Context) {
				c.Next()
				if len(c.Errors) > 0 {
					c.Header("Retry-After", "x")
					c.AbortWithStatus(http.StatusTooManyRequests)
				}
			})
			e.Use(Middleware(tt.cfg, func(*gin.Context) string { return tt.key }))
			e.GET("/", func(c *gin.Context) { c.Status(http.StatusOK) })
			for i, want := range tt.codes {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				if rec.Code != want {
					t.Errorf("request %d: %d, want %d", i, rec.Code, want)
				}
			}
		})
	}
}

func TestRetryAfterIsWholeSeconds(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	var got error
	e.Use(func(c *gin.Context) {
		c.Next()
		if len(c.Errors) > 0 {
			got = c.Errors.Last().Err
		}
	})
	e.Use(Middleware(Config{Enabled: true, RequestsPerSecond: 0.25, Burst: 1}, func(*gin.Context) string { return "k" }))
	e.GET("/", func(c *gin.Context) { c.Status(http.StatusOK) })
	for range 2 {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}
	if !isRateLimited(got) {
		t.Fatalf("error %v, want RATE_LIMITED", got)
	}
	if ra := retryAfterOf(got); ra < 3 || ra > 4 {
		t.Errorf("Retry-After %d s, want 4 (one token per 4 s)", ra)
	}
}

func isRateLimited(err error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Code == "RATE_LIMITED"
}

func retryAfterOf(err error) int {
	ae, _ := apperr.As(err)
	return ae.RetryAfter
}
