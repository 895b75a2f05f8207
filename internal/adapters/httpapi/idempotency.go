package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
)

// Idempotency-Key headers (draft-ietf-httpapi-idempotency-key-header).
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
	maxIdempotencyKeyLen = 255
)

// idempotent makes a POST safe to retry: the first request with a key runs and its answer is
// kept; a repeat with the same body gets that answer again (and creates nothing), a repeat with
// another body is refused, and a repeat while the first still runs is told to wait. Answers of
// 5xx are not kept, so the client may try again, unless the handler changed state before it
// failed (keepAnswer). Keys are scoped to the user and the endpoint: the store sees the scope
// "<user id> <METHOD> <path>" and the body's SHA-256 in hex.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader(IdempotencyKeyHeader)
	if key == "" {
		c.Next()
		return
	}
	if !validIdempotencyKey(key) {
		s.fail(c, errIdempotencyKey)
		return
	}
	ctx := c.Request.Context()
	scope := actorOf(c).UserID + " " + c.Request.Method + " " + c.Request.URL.Path
	sum := sha256.Sum256(body(c))
	hash := hex.EncodeToString(sum[:])
	rec, claimed, err := s.idempotency.Begin(ctx, scope, key, hash, s.clock.Now())
	switch {
	case err != nil:
		s.fail(c, err)
	case claimed:
		s.runAndKeep(c, scope, key)
	case rec.RequestHash != hash:
		s.fail(c, app.ErrIdempotencyReused)
	case !rec.Done:
		s.fail(c, app.ErrIdempotencyBusy)
	default:
		replay(c, rec)
	}
}

// runAndKeep runs the handler while recording its answer, then keeps the answer or, for a 5xx or
// a panic, forgets the key. The store calls outlive a client that hung up.
func (s *Server) runAndKeep(c *gin.Context, scope, key string) {
	ctx := context.WithoutCancel(c.Request.Context())
	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	finished := false
	defer func() {
		if !finished {
			s.forget(ctx, scope, key)
		}
	}()
	c.Next()
	finished = true
	if status := rec.Status(); status >= http.StatusInternalServerError && !c.GetBool(keepAnswerKey) {
		s.forget(ctx, scope, key)
		return
	}
	if err := s.idempotency.Complete(ctx, scope, key, rec.Status(), rec.body.Bytes()); err != nil {
		s.log.ErrorContext(ctx, "could not keep the answer to an idempotent request", "error", err)
	}
}

// keepAnswerKey marks a 5xx answer that must be kept all the same, because the request changed
// state before it failed (a refund booked while the provider is down): a retry with the same
// key gets this answer again instead of doing the work a second time.
const keepAnswerKey = "httpapi.keepAnswer"

// keepAnswer asks runAndKeep to keep the answer even if it is a 5xx.
func keepAnswer(c *gin.Context) { c.Set(keepAnswerKey, true) }

func (s *Server) forget(ctx context.Context, scope, key string) {
	if err := s.idempotency.Abandon(ctx, scope, key); err != nil {
		s.log.ErrorContext(ctx, "could not release an Idempotency-Key", "error", err)
	}
}

// replay answers with the kept answer of the first request.
func replay(c *gin.Context, rec app.IdempotencyRecord) {
	c.Header(ReplayedHeader, "true")
	contentType := "application/json; charset=utf-8"
	if rec.Status >= http.StatusBadRequest {
		contentType = "application/problem+json"
	}
	if len(rec.Body) == 0 {
		c.Status(rec.Status)
	} else {
		c.Data(rec.Status, contentType, rec.Body)
	}
	c.Abort()
}

func validIdempotencyKey(key string) bool {
	if len(key) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// recordingWriter keeps a copy of the body it writes.
type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
