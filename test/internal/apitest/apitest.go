// Package apitest gives integration tests an HTTP client that checks every
// request it sends and every response it receives against the OpenAPI
// document the server under test serves, so an undocumented field, status or
// header fails the test that met it.
//
//	client := apitest.NewClient(t, baseURL)
//	resp, err := client.Get(baseURL + "/api/product")
//
// A request the document rejects must be rejected by the server too: it is
// reported only when the server answers it with a success (or a 5xx). Raw
// skips the request check entirely; the response is still checked:
//
//	req, _ := http.NewRequest(http.MethodGet, baseURL+"/api/product?limit=0", nil)
//	resp, err := client.Do(apitest.Raw(req))
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// NewClient returns a client whose transport validates each exchange with
// baseURL's server against the document that server serves at
// apidoc.YAMLPath and reports every mismatch with tb.Errorf. Send
// deliberately invalid requests through Raw.
func NewClient(tb testing.TB, baseURL string) *http.Client {
	tb.Helper()
	base, err := url.Parse(baseURL)
	if err != nil || base.Host == "" {
		tb.Fatalf("apitest: base URL %q is not an absolute URL", baseURL)
	}
	v, err := validatorFor()
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	return &http.Client{
		Transport: &transport{tb: tb, host: base.Host, base: http.DefaultTransport, validator: v},
		// A server that hangs fails the test instead of stalling the suite.
		Timeout: 30 * time.Second,
	}
}

type rawKey struct{}

// Raw marks req as deliberately invalid: the client sends it without
// checking it, then still checks the response. Tests of 400 answers use it.
func Raw(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), rawKey{}, true))
}

func isRaw(ctx context.Context) bool {
	raw, _ := ctx.Value(rawKey{}).(bool)
	return raw
}

// transport validates what passes through it and reports mismatches to tb.
type transport struct {
	tb        testing.TB
	host      string // the server under test; the document describes no other
	base      http.RoundTripper
	validator *validator
}

// RoundTrip sends req through base and reports, once the status is known,
// whatever in the request or the response the document does not allow.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	raw := isRaw(req.Context())
	body, err := readBody(req)
	if err != nil {
		return nil, fmt.Errorf("apitest: read request body: %w", err)
	}

	// Request problems are held until the status is known: a request the
	// document rejects must be rejected by the server too (4xx); only a
	// success for it is a finding.
	var problems, requestProblems []string
	if req.URL.Host != t.host {
		problems = append(problems, fmt.Sprintf("request to %s, the client checks %s", req.URL.Host, t.host))
	}
	route, params, err := t.validator.router.FindRoute(withoutTrailingSlash(req))
	if err != nil && !raw {
		requestProblems = append(requestProblems, fmt.Sprintf("route not documented: %v", err))
	}
	var input *openapi3filter.RequestValidationInput
	if route != nil {
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		input = &openapi3filter.RequestValidationInput{
			Request:    check,
			PathParams: params,
			Route:      route,
			Options:    t.validator.options,
		}
		if !raw {
			if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
				requestProblems = append(requestProblems, fmt.Sprintf("request: %v", err))
			}
		}
	}

	send := req.Clone(req.Context())
	if body != nil {
		send.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := t.base.RoundTrip(send)
	if err != nil {
		t.report(req, 0, append(problems, requestProblems...))
		return nil, err
	}
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		problems = append(problems, requestProblems...)
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("apitest: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	switch {
	case input != nil:
		if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: input,
			Status:                 resp.StatusCode,
			Header:                 resp.Header,
			Body:                   io.NopCloser(bytes.NewReader(respBody)),
			Options:                t.validator.options,
		}); err != nil {
			problems = append(problems, fmt.Sprintf("response: %v", err))
		}
	case raw || len(requestProblems) > 0:
		// A raw request to an undocumented route can only be answered by the
		// router's own errors, which keep the common error shape.
		if err := t.validator.checkError(resp, respBody); err != nil {
			problems = append(problems, fmt.Sprintf("response: %v", err))
		}
	}
	t.report(req, resp.StatusCode, problems)
	return resp, nil
}

func (t *transport) report(req *http.Request, status int, problems []string) {
	t.tb.Helper()
	for _, p := range problems {
		t.tb.Errorf("apitest: %s %s -> %d: %s", req.Method, req.URL.Path, status, p)
	}
}

// withoutTrailingSlash maps "/api/product/" to the documented "/api/product":
// the server answers both forms alike, and the document lists each path once.
func withoutTrailingSlash(req *http.Request) *http.Request {
	p := req.URL.Path
	if len(p) < 2 || !strings.HasSuffix(p, "/") {
		return req
	}
	r := req.Clone(req.Context())
	r.URL.Path = strings.TrimSuffix(p, "/")
	r.URL.RawPath = ""
	return r
}

// readBody reads the request body once so that it can be both validated and
// sent.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// validator holds what every client shares: the loaded document and its
// router are read-only once built.
type validator struct {
	doc     *openapi3.T
	router  routers.Router
	options *openapi3filter.Options
}

// validators holds one validator per distinct document: most servers under
// test serve the same one.
var validators = struct {
	sync.Mutex
	byDoc map[string]*validator
}{byDoc: map[string]*validator{}}

// registerDecoders lets kin-openapi read metrics and the documentation
// page, which are text, and product pictures, which are binary; it decodes
// only structured bodies by itself. The string schemas then check them.
var registerDecoders = sync.OnceFunc(func() {
	for _, ct := range []string{"text/plain", "text/html", "image/jpeg", "image/png", "image/webp", "image/gif"} {
		if openapi3filter.RegisteredBodyDecoder(ct) == nil {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
		}
	}
})

// validatorFor fetches the document baseURL's server serves and returns the
// validator over it.
func validatorFor() (*validator, error) {
	registerDecoders()
	// The document is the one the application assembles, built in process:
	// fetching it from the server under test would spend a request of the
	// client's rate-limit budget before the test sends its first.
	doc, err := appDocument()
	if err != nil {
		return nil, fmt.Errorf("api document: %w", err)
	}
	spec := doc.YAML()
	validators.Lock()
	defer validators.Unlock()
	if v, ok := validators.byDoc[string(spec)]; ok {
		return v, nil
	}
	v, err := newValidator(spec)
	if err != nil {
		return nil, err
	}
	validators.byDoc[string(spec)] = v
	return v, nil
}

func newValidator(spec []byte) (*validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load api document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate api document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build openapi router: %w", err)
	}
	options := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		// The server decides who may call; the validator checks only the
		// shape of what is sent.
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
	}
	// Name the failing value by its JSON pointer instead of printing the
	// whole schema, which buries the reason in a long test log.
	options.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		msg := fmt.Sprintf("/%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
		if err.Origin != nil {
			msg += ": " + err.Origin.Error()
		}
		return msg
	})
	return &validator{doc: doc, router: router, options: options}, nil
}

// checkError validates an error body against the document's Error schema.
func (v *validator) checkError(resp *http.Response, body []byte) error {
	if resp.StatusCode < 400 {
		return fmt.Errorf("status %d from an undocumented route", resp.StatusCode)
	}
	if resp.Header.Get("X-Correlation-ID") == "" {
		return fmt.Errorf("response header %q missing", "X-Correlation-ID")
	}
	schema := v.doc.Components.Schemas["Error"]
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("content type %q, want application/json", resp.Header.Get("Content-Type"))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("decode error body: %w", err)
	}
	return schema.Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse())
}
