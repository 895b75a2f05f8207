package app

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wolfix/orders/internal/domain/fault"
)

// ErrIdempotencyClaimLost reports that another request took this request's Idempotency-Key over
// (its lease ran out) and will answer it: whatever this request was about to commit rolls back.
var ErrIdempotencyClaimLost = fault.Conflict("idempotency_key_taken_over",
	"a retry with this Idempotency-Key took the request over; retry again to get its answer")

// Answer is the response kept for an Idempotency-Key, replayed byte for byte.
type Answer struct {
	Status int
	Body   []byte
}

// AnswerRenderer turns a use case's result into the answer its client gets. It reports false for
// a result it does not render (a step that belongs to another use case).
type AnswerRenderer func(result any) (Answer, bool, error)

// IdempotencyClaim is a request's hold on its Idempotency-Key. The driving adapter claims the key,
// puts the claim into the request's context (WithIdempotencyClaim) and says how a result is
// answered (RenderWith). A use case that changes state names its result inside the transaction
// of the change; the unit of work renders it and keeps the answer in that same transaction under
// Token, so "changed" and "answer kept" commit as one fact, and a takeover of the key by a retry
// makes this request's transaction roll back instead of committing a second time.
type IdempotencyClaim struct {
	Scope, Key string
	Token      int64
	// ClaimedAt is when the key was first claimed; it seeds the ids a retry must reuse.
	ClaimedAt time.Time

	mu     sync.Mutex
	render AnswerRenderer
	kept   *Answer
}

// RenderWith sets how the claim's use case results are answered.
func (c *IdempotencyClaim) RenderWith(r AnswerRenderer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.render = r
}

// Kept returns the answer the last committed transaction kept for the claim, if one did.
func (c *IdempotencyClaim) Kept() (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept == nil {
		return Answer{}, false
	}
	return *c.kept, true
}

func (c *IdempotencyClaim) renderResult(result any) (Answer, bool, error) {
	c.mu.Lock()
	render := c.render
	c.mu.Unlock()
	if render == nil {
		return Answer{}, false, nil
	}
	return render(result)
}

func (c *IdempotencyClaim) setKept(a Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kept = &a
}

// derivedID is an id that every run of the claimed request computes alike, so a retry that takes
// the key over reuses what the first run may have created outside the database (a payment intent
// keyed by the payment id, whose metadata names the order id).
func (c *IdempotencyClaim) derivedID(purpose string) string {
	name := c.Scope + "\x00" + c.Key + "\x00" + c.ClaimedAt.UTC().Format(time.RFC3339Nano) + "\x00" + purpose
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String()
}

type claimKey struct{}

// WithIdempotencyClaim returns ctx carrying the request's claim.
func WithIdempotencyClaim(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// IdempotencyClaimFrom returns the claim ctx carries, or nil.
func IdempotencyClaimFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(claimKey{}).(*IdempotencyClaim)
	return c
}

// idFor returns the id of purpose for the request in ctx: derived from its Idempotency-Key claim
// when it has one, else new.
func idFor(ctx context.Context, purpose string) string {
	if c := IdempotencyClaimFrom(ctx); c != nil {
		return c.derivedID(purpose)
	}
	return NewID()
}
