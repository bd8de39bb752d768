// Package apperr defines the application's error kinds. Modules declare their
// errors with New; the HTTP layer maps each kind to one status code in one place.
package apperr

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Kind classifies an error for the transport layer.
type Kind int

// The kinds of application error. Each maps to exactly one HTTP status.
const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	NotFound
	MethodNotAllowed
	Conflict
	TooLarge
	HeaderTooLarge
	Unprocessable
	RateLimited
	Unavailable
	Timeout
	// NotImplemented is a request feature the server does not support.
	NotImplemented
	// ClientClosed is a request whose client went away before the answer:
	// nobody reads it, and it is no fault of the server's.
	ClientClosed
	// UnsupportedMediaType is a body of a type the route does not take.
	UnsupportedMediaType
)

// Detail names one field that failed validation.
type Detail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Value   string `json:"value,omitempty"`
}

// Error is an error a client may see: a stable UPPER_SNAKE code, a message and
// optional per-field details.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Details []Detail
	// RetryAfter, when positive, is sent as a Retry-After header in seconds.
	RetryAfter int
}

// New declares an error of the given kind with a stable code and message.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code, so declared errors
// can be matched with errors.Is even after WithDetails or Withf made a copy.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// WithDetails returns a copy of e carrying the given details.
func (e *Error) WithDetails(details ...Detail) *Error {
	c := *e
	c.Details = append([]Detail(nil), details...)
	return &c
}

// Withf returns a copy of e with a more specific message.
func (e *Error) Withf(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// WithRetryAfter returns a copy of e that tells clients to retry after secs seconds.
func (e *Error) WithRetryAfter(secs int) *Error {
	c := *e
	c.RetryAfter = secs
	return &c
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Errors shared by every module and by the HTTP platform.
var (
	ErrInternal           = New(Internal, "INTERNAL_ERROR", "internal error")
	ErrNotFound           = New(NotFound, "NOT_FOUND", "no such route")
	ErrMethodNotAllowed   = New(MethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed on this route")
	ErrInvalidParameter   = New(Invalid, "INVALID_PARAMETER", "invalid parameter")
	ErrUnauthorized       = New(Unauthorized, "UNAUTHORIZED", "missing api_key header")
	ErrForbidden          = New(Forbidden, "FORBIDDEN", "api key not accepted")
	ErrServiceUnavailable = New(Unavailable, "SERVICE_UNAVAILABLE", "service temporarily unavailable, retry later")
	ErrTimeout            = New(Timeout, "TIMEOUT", "the request took too long")
	ErrClientClosed       = New(ClientClosed, "CLIENT_CLOSED_REQUEST", "the client closed the request")
	ErrBodyTooLarge       = New(TooLarge, "BODY_TOO_LARGE", "request body too large")
	ErrHeaderTooLarge     = New(HeaderTooLarge, "HEADER_TOO_LARGE", "request headers too large")
	// ErrInvalidFraming is a request with both Content-Length and
	// Transfer-Encoding, the shape of request smuggling (RFC 9112 §6.1).
	ErrInvalidFraming = New(Invalid, "INVALID_FRAMING", "a request may not carry both Content-Length and Transfer-Encoding")
	// ErrUnsupportedTransferEncoding is a transfer coding other than chunked.
	ErrUnsupportedTransferEncoding = New(NotImplemented, "UNSUPPORTED_TRANSFER_ENCODING", "the only transfer coding accepted is chunked")
)

// The validation errors of a request body, shared by every route that reads
// one: the body is not a JSON object, a required field is absent, or a
// field has the wrong type or value. Problems gathers the last two per field.
var (
	ErrInvalidJSON  = New(Invalid, "INVALID_JSON", "request body is not a valid JSON object")
	ErrMissingField = New(Invalid, "MISSING_FIELD", "a required field is missing")
	ErrInvalidField = New(Invalid, "INVALID_FIELD", "a field has the wrong type or value")
)

// Problems collects every field of a request that failed, so one answer
// names them all: the error carries the code of the first problem and one
// detail per problem. The zero value is ready to use.
type Problems struct {
	first   *Error
	details []Detail
}

// Add records that field failed with e; value is the rejected value as
// text ("" for none), clipped.
func (p *Problems) Add(e *Error, field, msg, value string) {
	if p.first == nil {
		p.first = e
	}
	p.details = append(p.details, Detail{Field: field, Message: msg, Value: Clip(value)})
}

// Err returns the collected problems as one error, or nil when none.
func (p *Problems) Err() error {
	if p.first == nil {
		return nil
	}
	return p.first.WithDetails(p.details...)
}

// Clip bounds a client-supplied value echoed in an error detail.
func Clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
