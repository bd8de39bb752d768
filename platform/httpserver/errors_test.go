package httpserver

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"minikart/platform/apperr"
)

// routeFunc lets a test mount its own handlers through the routes group.
type routeFunc func(r gin.IRouter)

func (f routeFunc) Register(r gin.IRouter) { f(r) }

// newTestEngine builds the real engine, middleware included, around routes,
// logging into logs.
func newTestEngine(t *testing.T, logs *bytes.Buffer, routes routeFunc) *gin.Engine {
	t.Helper()
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: 5 * time.Second},
		Log:        zerolog.New(logs),
		Registerer: prometheus.NewRegistry(),
		Routes:     []Routes{routes},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// failWith mounts GET /api/fail, which records err.
func failWith(err error) routeFunc {
	return func(r gin.IRouter) {
		r.GET("/fail", func(c *gin.Context) { _ = c.Error(err) })
	}
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
	}
	return body
}

func TestStatusOfEveryKind(t *testing.T) {
	tests := []struct {
		kind apperr.Kind
		want int
	}{
		{apperr.Internal, http.StatusInternalServerError},
		{apperr.Invalid, http.StatusBadRequest},
		{apperr.Unauthorized, http.StatusUnauthorized},
		{apperr.Forbidden, http.StatusForbidden},
		{apperr.NotFound, http.StatusNotFound},
		{apperr.MethodNotAllowed, http.StatusMethodNotAllowed},
		{apperr.Conflict, http.StatusConflict},
		{apperr.TooLarge, http.StatusRequestEntityTooLarge},
		{apperr.Unprocessable, http.StatusUnprocessableEntity},
		{apperr.RateLimited, http.StatusTooManyRequests},
		{apperr.Unavailable, http.StatusServiceUnavailable},
		{apperr.Timeout, http.StatusGatewayTimeout},
		{apperr.ClientClosed, StatusClientClosedRequest},
		{apperr.UnsupportedMediaType, http.StatusUnsupportedMediaType},
		{apperr.Kind(99), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("kind %d answers %d", tt.kind, tt.want), func(t *testing.T) {
			e := newTestEngine(t, &bytes.Buffer{}, failWith(fmt.Errorf("wrapped: %w", apperr.New(tt.kind, "SOME_CODE", "some message"))))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/fail", nil))
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
			if statusOf(tt.kind) != tt.want {
				t.Errorf("statusOf = %d, want %d", statusOf(tt.kind), tt.want)
			}
		})
	}
}

// connectError returns a real pgconn connect error: nothing listens on port 1.
func connectError(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if err == nil {
		conn.Close(ctx)
		t.Fatal("connected to port 1")
	}
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("got %T %v, want a *pgconn.ConnectError", err, err)
	}
	return err
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"an application error keeps its code", fmt.Errorf("x: %w", apperr.ErrForbidden), 403, "FORBIDDEN", ""},
		{"a body over the limit", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, "BODY_TOO_LARGE", ""},
		{"a passed deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, "TIMEOUT", "2"},
		{"a cancelled context", fmt.Errorf("query: %w", context.Canceled), 499, "CLIENT_CLOSED_REQUEST", ""},
		{"a network error", fmt.Errorf("query: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}), 503, "SERVICE_UNAVAILABLE", "2"},
		{"a bad driver connection", fmt.Errorf("query: %w", driver.ErrBadConn), 503, "SERVICE_UNAVAILABLE", "2"},
		{"a connection exception (class 08)", fmt.Errorf("query: %w", &pgconn.PgError{Code: "08006", Message: "connection failure"}), 503, "SERVICE_UNAVAILABLE", "2"},
		{"an administrator shutdown (57P01)", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection"}), 503, "SERVICE_UNAVAILABLE", "2"},
		{"a crash shutdown (57P02)", &pgconn.PgError{Code: "57P02"}, 503, "SERVICE_UNAVAILABLE", "2"},
		{"cannot connect now (57P03)", &pgconn.PgError{Code: "57P03"}, 503, "SERVICE_UNAVAILABLE", "2"},
		{"a read cut short by a hard stop", fmt.Errorf("insert order: %w", io.ErrUnexpectedEOF), 503, "SERVICE_UNAVAILABLE", "2"},
		{"a write on a server that became a standby", &pgconn.PgError{Code: "25006"}, 503, "SERVICE_UNAVAILABLE", "2"},
		{"a unique violation is internal", &pgconn.PgError{Code: "23505", Message: "duplicate key"}, 500, "INTERNAL_ERROR", ""},
		{"an unknown error", errors.New("boom"), 500, "INTERNAL_ERROR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, &bytes.Buffer{}, failWith(tt.err))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/fail", nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := decodeBody(t, rec)["error"]; got != tt.code {
				t.Errorf("code = %v, want %s", got, tt.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
		})
	}
}

func TestClassifyConnectError(t *testing.T) {
	e := newTestEngine(t, &bytes.Buffer{}, failWith(fmt.Errorf("list widgets: %w", connectError(t))))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/fail", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("status = %d, Retry-After = %q; want 503, 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := decodeBody(t, rec)["error"]; got != "SERVICE_UNAVAILABLE" {
		t.Errorf("code = %v, want SERVICE_UNAVAILABLE", got)
	}
}

func TestInternalErrorSaysNothingElse(t *testing.T) {
	var logs bytes.Buffer
	e := newTestEngine(t, &logs, failWith(fmt.Errorf("get order: %w", errors.New(`pq: table "orders_v2" does not exist`))))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/fail", nil))

	body := decodeBody(t, rec)
	t.Run("the body has only code, message and correlation id", func(t *testing.T) {
		if len(body) != 3 || body["error"] != "INTERNAL_ERROR" || body["message"] != "internal error" || body["correlation_id"] == "" {
			t.Errorf("body = %v", body)
		}
	})
	t.Run("the body does not leak the cause", func(t *testing.T) {
		if strings.Contains(rec.Body.String(), "orders_v2") || strings.Contains(rec.Body.String(), "get order") {
			t.Errorf("body leaks the error chain: %s", rec.Body.String())
		}
	})
	t.Run("the log has the full chain and the correlation id", func(t *testing.T) {
		var failed map[string]any
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err == nil && m["message"] == "request failed" {
				failed = m
			}
		}
		if failed == nil {
			t.Fatalf("no request failed line in %s", logs.String())
		}
		if failed["level"] != "error" || !strings.Contains(fmt.Sprint(failed["error"]), `table "orders_v2" does not exist`) {
			t.Errorf("log line = %v", failed)
		}
		if failed["correlation_id"] != body["correlation_id"] {
			t.Errorf("log correlation id %v, body %v", failed["correlation_id"], body["correlation_id"])
		}
	})
}

func TestDetailsAreSent(t *testing.T) {
	err := apperr.ErrInvalidParameter.WithDetails(
		apperr.Detail{Field: "limit", Message: "must be positive", Value: "-1"},
		apperr.Detail{Field: "offset", Message: "must be an integer"},
	)
	e := newTestEngine(t, &bytes.Buffer{}, failWith(err))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/fail", nil))
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 400 || body.Error != "INVALID_PARAMETER" || len(body.Details) != 2 ||
		body.Details[0] != (apperr.Detail{Field: "limit", Message: "must be positive", Value: "-1"}) || body.Details[1].Field != "offset" {
		t.Errorf("status %d, body %+v", rec.Code, body)
	}
}

func TestClientClosedIsNotAServerError(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: 5 * time.Second},
		Log:        zerolog.New(&logs),
		Registerer: reg,
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.POST("/work", func(c *gin.Context) {
				<-c.Request.Context().Done()
				// What a driver reports when its query is cut short.
				_ = c.Error(fmt.Errorf("insert: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("use of closed connection")}))
			})
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, hangUp := context.WithCancel(context.Background())
	hangUp()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/work", nil).WithContext(ctx))

	if rec.Code != StatusClientClosedRequest {
		t.Errorf("status = %d, want 499", rec.Code)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("want one log line, got %q: %v", logs.String(), err)
	}
	if line["level"] != "info" || line["status"] != float64(499) || line["message"] != "request" {
		t.Errorf("log line = %v, want the request at info with status 499", line)
	}
	want := `
# HELP http_requests_total HTTP requests by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="POST",route="/api/work",status="499"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestLongRequestLineAnswersJSON431: the request line counts against
// max_header_bytes as the headers do, so a 20 kB path or query, far below
// net/http's own plain-text limit, gets the JSON HEADER_TOO_LARGE.
func TestLongRequestLineAnswersJSON431(t *testing.T) {
	e, err := NewEngine(EngineParams{
		Config:     Config{RequestTimeout: 5 * time.Second, MaxHeaderBytes: 16384},
		Log:        zerolog.Nop(),
		Registerer: prometheus.NewRegistry(),
		Routes: []Routes{routeFunc(func(r gin.IRouter) {
			r.GET("/widget", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 20000)
	for _, target := range []string{"/api/widget?q=" + long, "/" + long} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusRequestHeaderFieldsTooLarge || decodeBody(t, rec)["error"] != "HEADER_TOO_LARGE" {
			t.Errorf("%.30s…: %d %s", target, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/widget?q=short", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("a short request: %d %s", rec.Code, rec.Body.String())
	}
}
