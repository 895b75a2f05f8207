package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/wolfix/orders/internal/app"
)

// Notifier keeps every notification it is asked to send, in order.
type Notifier struct {
	mu   sync.Mutex
	sent []app.Notification
}

// Notify keeps n.
func (r *Notifier) Notify(_ context.Context, n app.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
	return nil
}

// Sent returns the notifications sent so far.
func (r *Notifier) Sent() []app.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}
