package httpserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"minikart/platform/apperr"
	"minikart/platform/db"
	"minikart/platform/log"
)

// StatusClientClosedRequest is nginx's status for a request whose client
// hung up before the answer; logs and metrics carry it, no client sees it.
const StatusClientClosedRequest = 499

// statusOf is the one place where error kinds become HTTP statuses.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.ClientClosed:
		return StatusClientClosedRequest
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.HeaderTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	case apperr.Unprocessable:
		return http.StatusUnprocessableEntity
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.Timeout:
		return http.StatusGatewayTimeout
	case apperr.NotImplemented:
		return http.StatusNotImplemented
	case apperr.UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the one shape of every error response.
type errorBody struct {
	Error         string          `json:"error"`
	Message       string          `json:"message"`
	CorrelationID string          `json:"correlation_id"`
	Details       []apperr.Detail `json:"details,omitempty"`
}

// retryAfterSeconds is the wait a client is told when the database is out
// of reach (503) or too slow for the request's deadline (504): both pass.
const retryAfterSeconds = 2

// classify turns any error into the *apperr.Error a client may see. Errors
// that are not application errors become 503 when the database is at fault,
// 504 when the request deadline passed (both with Retry-After), and
// INTERNAL_ERROR otherwise.
func classify(err error) (*apperr.Error, bool) {
	if ae, ok := apperr.As(err); ok {
		return ae, ae.Kind == apperr.Internal
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return apperr.ErrBodyTooLarge.Withf("request body exceeds %d bytes", mbe.Limit), false
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.ErrTimeout.WithRetryAfter(retryAfterSeconds), true
	case errors.Is(err, context.Canceled):
		return apperr.ErrClientClosed, false
	case db.Unavailable(err):
		return apperr.ErrServiceUnavailable.WithRetryAfter(retryAfterSeconds), true
	}
	return apperr.ErrInternal, true
}

// WriteError writes err as the standard JSON error body. Internal errors are
// logged with their full chain; the client sees only INTERNAL_ERROR.
func WriteError(c *gin.Context, err error) {
	ae, logIt := classify(err)
	if clientGone(c) {
		// Whatever the work failed with (a cancelled query, a connection
		// pgx closed, a transaction database/sql rolled back), its cause is
		// the client hanging up.
		ae, logIt = apperr.ErrClientClosed, false
	}
	status := statusOf(ae.Kind)
	if logIt {
		l := zerolog.Ctx(c.Request.Context())
		ev := l.Error()
		if status < 500 || ae.Kind == apperr.Unavailable || ae.Kind == apperr.Timeout {
			ev = l.Warn()
		}
		// The chain may quote what the client sent (a code from the path).
		ev.Str(zerolog.ErrorFieldName, log.ClipErr(err)).Int("status", status).
			Str("path", log.Clip(c.Request.URL.Path)).Msg("request failed")
	}
	respond(c, ae)
}

// clientGone reports whether the request's context ended because the
// client closed the connection, rather than by the request deadline.
func clientGone(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}

// respond writes ae as the standard JSON error body, without logging.
func respond(c *gin.Context, ae *apperr.Error) {
	if ae.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	c.AbortWithStatusJSON(statusOf(ae.Kind), errorBody{
		Error:         ae.Code,
		Message:       ae.Message,
		CorrelationID: CorrelationID(c),
		Details:       ae.Details,
	})
}

// errorMiddleware answers the last error a handler recorded with c.Error.
// Handlers never choose error statuses themselves.
func errorMiddleware(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	WriteError(c, c.Errors.Last().Err)
}
