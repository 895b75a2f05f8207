package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
)

type bodyKey struct{}

type actorKey struct{}

// accessLog writes one line per request: the route template rather than the raw path (so ids do
// not explode the cardinality), the client address (X-Forwarded-For only from a trusted proxy),
// and nothing else from headers or bodies, which hold tokens, client secrets and card numbers.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method), slog.String("route", route), slog.String("client", c.ClientIP()),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
		slog.Int("bytes", max(c.Writer.Size(), 0)))
}

// recoverPanics turns a panic into a logged 500 problem that reveals nothing of the panic.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r)
		}
		s.log.ErrorContext(c.Request.Context(), "panic while handling a request",
			"panic", r, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.fail(c, errInternal)
	}()
	c.Next()
}

// limitBody reads the whole request body up front, refusing more than the limit with 413, so
// that handlers, the idempotency hash and the webhook signature all see the same bytes.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		c.Next()
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.fail(c, errBodyTooLarge.WithMessage("the request body is larger than %d bytes", s.maxBody))
			return
		}
		s.fail(c, errMalformedJSON.WithMessage("the request body could not be read"))
		return
	}
	c.Set(bodyKey{}, data)
	c.Next()
}

// body returns the request body read by limitBody.
func body(c *gin.Context) []byte {
	data, _ := c.Get(bodyKey{})
	b, _ := data.([]byte)
	return b
}

// authenticate requires a valid bearer token and makes its actor available to the handlers.
func (s *Server) authenticate(c *gin.Context) {
	scheme, token, found := strings.Cut(c.GetHeader("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		s.fail(c, errNoToken)
		return
	}
	actor, err := s.auth.Authenticate(c.Request.Context(), strings.TrimSpace(token))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(actorKey{}, actor)
	c.Next()
}

// actorOf returns the authenticated caller; routes behind authenticate always have one.
func actorOf(c *gin.Context) app.Actor {
	v, _ := c.Get(actorKey{})
	actor, _ := v.(app.Actor)
	return actor
}
