package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
)

// Idempotency-Key headers (draft-ietf-httpapi-idempotency-key-header).
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
	maxIdempotencyKeyLen = 255
)

// Defaults of Config.IdempotencyLease and Config.IdempotencyTTL.
const (
	DefaultIdempotencyLease = 5 * time.Second
	DefaultIdempotencyTTL   = 24 * time.Hour
)

// idempotent makes a POST safe to retry. The first request with a key claims it for a lease and
// runs; the answer of a request that changed state is kept by the app's unit of work in the
// transaction of the change (see answerWith), so "changed" and "answer kept" are one fact. A repeat
// with the same body gets the kept answer byte for byte (and creates nothing), a repeat with
// another body is refused, a repeat while a live request holds the key is told when to retry, and
// a repeat that finds the lease run out without an answer (the first request died) takes the key
// over and runs afresh: nothing of the first run committed. Keys are scoped to the user and the
// endpoint: the store sees the scope "<user id> <METHOD> <path>" and the body's SHA-256 in hex.
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
	sum := sha256.Sum256(body(c))
	hash := hex.EncodeToString(sum[:])
	now, scope := s.clock.Now(), actorOf(c).UserID+" "+c.Request.Method+" "+c.Request.URL.Path
	rec, err := s.idempotency.Claim(c.Request.Context(), app.IdempotencyRequest{Scope: scope, Key: key, RequestHash: hash,
		Now: now, Lease: s.idempotencyLease, ExpiresAt: now.Add(s.idempotencyTTL)})
	switch {
	case err != nil:
		s.fail(c, err)
	case rec.RequestHash != hash:
		s.fail(c, app.ErrIdempotencyReused)
	case rec.Claimed:
		s.runClaimed(c, &app.IdempotencyClaim{Scope: scope, Key: key, Token: rec.Token, ClaimedAt: rec.ClaimedAt})
	case !rec.Done:
		c.Header("Retry-After", retryAfter(rec.LockedUntil.Sub(now)))
		s.fail(c, app.ErrIdempotencyBusy)
	default:
		replay(c, rec.Answer)
	}
}

// runClaimed runs the handler with the claim in the request's context, then settles the claim
// with what the client got. The store calls outlive a client that hung up.
func (s *Server) runClaimed(c *gin.Context, claim *app.IdempotencyClaim) {
	c.Request = c.Request.WithContext(app.WithIdempotencyClaim(c.Request.Context(), claim))
	ctx := context.WithoutCancel(c.Request.Context())
	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	finished := false
	defer func() {
		if !finished { // a panic: release the key unless an answer was kept already
			s.release(ctx, claim)
		}
	}()
	c.Next()
	finished = true
	s.settle(ctx, claim, app.Answer{Status: rec.Status(), Body: rec.body.Bytes()})
}

// settle leaves the claim with the answer the client got. Usually a transaction kept exactly this
// answer with its change, and nothing is left to do. A request that committed nothing is released
// when it failed on our side (5xx: the retry runs afresh) and otherwise keeps its answer in a
// statement of its own (a 4xx changed nothing, so losing it to a crash only means a rerun). One
// that committed, then answered differently (a later step failed, or read the result again), keeps
// that final answer over the one its transaction kept.
func (s *Server) settle(ctx context.Context, claim *app.IdempotencyClaim, sent app.Answer) {
	kept, committed := claim.Kept()
	switch {
	case committed && kept.Status == sent.Status && bytes.Equal(kept.Body, sent.Body):
		return
	case !committed && sent.Status >= http.StatusInternalServerError:
		s.release(ctx, claim)
		return
	}
	if err := s.idempotency.Keep(ctx, claim.Scope, claim.Key, claim.Token, sent); err != nil {
		s.log.WarnContext(ctx, "could not keep the answer to an idempotent request", "error", err)
	}
}

func (s *Server) release(ctx context.Context, claim *app.IdempotencyClaim) {
	if err := s.idempotency.Release(ctx, claim.Scope, claim.Key, claim.Token); err != nil {
		s.log.ErrorContext(ctx, "could not release an Idempotency-Key", "error", err)
	}
}

// answerWith tells the request's Idempotency-Key claim, if it has one, how the use case's result
// of type T is answered, so the unit of work can keep that very answer in the transaction of the
// change. respond answers the client with the same view, so a replay is what the client got.
func answerWith[T any](c *gin.Context, view func(T) (int, any, error)) {
	claim := app.IdempotencyClaimFrom(c.Request.Context())
	if claim == nil {
		return
	}
	claim.RenderWith(func(result any) (app.Answer, bool, error) {
		r, ok := result.(T)
		if !ok {
			return app.Answer{}, false, nil
		}
		status, v, err := view(r)
		if err != nil {
			return app.Answer{}, false, err
		}
		data, err := json.Marshal(v)
		return app.Answer{Status: status, Body: data}, err == nil, err
	})
}

// respond answers result through view, as answerWith keeps it.
func respond[T any](s *Server, c *gin.Context, view func(T) (int, any, error), result T) {
	status, v, err := view(result)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, status, v)
}

// replay answers with the kept answer of the first request.
func replay(c *gin.Context, a app.Answer) {
	c.Header(ReplayedHeader, "true")
	contentType := "application/json; charset=utf-8"
	if a.Status >= http.StatusBadRequest {
		contentType = "application/problem+json"
	}
	if len(a.Body) == 0 {
		c.Status(a.Status)
	} else {
		c.Data(a.Status, contentType, a.Body)
	}
	c.Abort()
}

// retryAfter renders a wait in whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
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
