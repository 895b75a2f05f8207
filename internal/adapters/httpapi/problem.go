package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
)

// problemTypeBase prefixes a problem's code to make its RFC 9457 type URI.
const problemTypeBase = "https://wolfix.dev/problems/"

// Faults of the transport itself; the domain and the app layer report everything else.
var (
	errMalformedJSON    = fault.Invalid("malformed_json", "the request body is not a single valid JSON value")
	errUnknownField     = fault.Invalid("unknown_field", "the request body has a field this endpoint does not know")
	errFieldType        = fault.Invalid("field_type_invalid", "a field of the request body has the wrong JSON type")
	errBodyTooLarge     = fault.Invalid("body_too_large", "the request body is too large")
	errMediaType        = fault.Invalid("unsupported_media_type", "send the request body as application/json")
	errNoToken          = fault.Unauthenticated("unauthenticated", "send Authorization: Bearer <token>")
	errIdempotencyKey   = fault.Invalid("idempotency_key_invalid", "Idempotency-Key must be 1 to 255 visible ASCII characters")
	errRouteNotFound    = fault.NotFound("route_not_found", "no such endpoint")
	errMethodNotAllowed = fault.Invalid("method_not_allowed", "this endpoint does not accept the method")
	errNotReady         = fault.Unavailable("not_ready", "the service is not ready")
	errInternal         = &fault.Error{Code: "internal", Message: "the server could not handle the request; it has been logged"}
)

// statusByCode overrides the kind's status for faults about the shape of a request, which are
// not a 422 "well-formed but wrong".
var statusByCode = map[string]int{
	errMalformedJSON.Code:        http.StatusBadRequest,
	errUnknownField.Code:         http.StatusBadRequest,
	errFieldType.Code:            http.StatusBadRequest,
	errIdempotencyKey.Code:       http.StatusBadRequest,
	errQueryInvalid.Code:         http.StatusBadRequest,
	errHeaderInvalid.Code:        http.StatusBadRequest,
	errJSONText.Code:             http.StatusBadRequest,
	errBodyTooLarge.Code:         http.StatusRequestEntityTooLarge,
	errMediaType.Code:            http.StatusUnsupportedMediaType,
	errMethodNotAllowed.Code:     http.StatusMethodNotAllowed,
	errRateLimited.Code:          http.StatusTooManyRequests,
	app.ErrWebhookSignature.Code: http.StatusBadRequest,
	app.ErrWebhookPayload.Code:   http.StatusBadRequest,
	app.ErrWait.Code:             http.StatusBadRequest,
}

var statusByKind = map[fault.Kind]int{
	fault.KindInvalid:         http.StatusUnprocessableEntity,
	fault.KindNotFound:        http.StatusNotFound,
	fault.KindConflict:        http.StatusConflict,
	fault.KindForbidden:       http.StatusForbidden,
	fault.KindUnauthenticated: http.StatusUnauthorized,
	fault.KindUnavailable:     http.StatusServiceUnavailable,
	fault.KindUpstream:        http.StatusBadGateway,
}

// RetryAfterSeconds is the Retry-After of every 503: a dependency that is down (database,
// broker, payment provider) is worth trying again after a few seconds.
const RetryAfterSeconds = "3"

// problem is an RFC 9457 problem document, extended with the stable code and the request id, and
// for /readyz with the names of the dependencies that are down.
type problem struct {
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Status      int      `json:"status"`
	Detail      string   `json:"detail"`
	Code        string   `json:"code"`
	RequestID   string   `json:"requestId,omitempty"`
	Unavailable []string `json:"unavailable,omitempty"`
}

// fail answers err as a problem and stops the handler chain. Errors that are not faults are bugs
// or broken dependencies: they are logged in full and the client gets a generic 500. A 503 says
// when to retry (Retry-After), unless the handler already did.
func (s *Server) fail(c *gin.Context, err error) {
	s.answerProblem(c, err, nil)
}

// answerProblem is fail with the names of the unavailable dependencies in the document.
func (s *Server) answerProblem(c *gin.Context, err error, unavailable []string) {
	ctx := c.Request.Context()
	f, ok := fault.As(err)
	if !ok && clientGone(ctx, err) {
		s.log.InfoContext(ctx, "the client hung up before its answer was ready", "error", err)
		c.AbortWithStatus(statusClientClosedRequest)
		return
	}
	if !ok {
		s.log.ErrorContext(ctx, "request failed", "error", err)
		f = errInternal
	}
	status := statusOf(f)
	if ok && status >= http.StatusInternalServerError {
		s.log.WarnContext(ctx, "dependency failed", "code", f.Code, "error", err)
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="wolfix"`)
	}
	if status == http.StatusServiceUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", RetryAfterSeconds)
	}
	body, _ := json.Marshal(problem{Type: problemTypeBase + f.Code, Title: http.StatusText(status),
		Status: status, Detail: f.Message, Code: f.Code, RequestID: RequestID(ctx), Unavailable: unavailable})
	c.Data(status, "application/problem+json", body)
	c.Abort()
}

// statusClientClosedRequest answers a request whose client hung up before the answer was ready
// (nginx's 499, for the access log and metrics): nobody reads it, and it is not a server error.
const statusClientClosedRequest = 499

// clientGone reports whether err only says that the request's own context ended because the
// client went away.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// statusOf is the HTTP status that answers f.
func statusOf(f *fault.Error) int {
	if s, ok := statusByCode[f.Code]; ok {
		return s
	}
	if s, ok := statusByKind[f.Kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}
