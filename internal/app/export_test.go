package app

import (
	"context"
	"time"

	"github.com/wolfix/orders/internal/domain/payment"
)

// InboxRetryDelay is how long the inbox configured by cfg waits before the retry that follows
// attempts failed attempts.
func InboxRetryDelay(cfg InboxConfig, attempts int) time.Duration {
	return cfg.withDefaults().retryDelay(attempts)
}

// Dispatch processes ev, a recorded provider event, as a worker does.
func (h *WebhookHandler) Dispatch(ctx context.Context, ev payment.Event) error {
	return h.dispatch(ctx, ev, h.log)
}

// Changes returns the hub whose notifications wake Await.
func (q *OrderQueries) Changes() *OrderChanges { return q.changes }

// RereadEvery changes how often Await re-reads the order it waits on.
func (q *OrderQueries) RereadEvery(d time.Duration) { q.reread = d }

// Watching returns how many waiters the hub holds.
func (h *OrderChanges) Watching() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}
