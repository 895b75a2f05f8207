package consumers

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/app"
)

// LogNotifier is the default app.Notifier: it logs who would be told what, and nothing personal.
type LogNotifier struct {
	Logger *slog.Logger
}

// Notify logs n.
func (l LogNotifier) Notify(ctx context.Context, n app.Notification) error {
	l.Logger.InfoContext(ctx, "notification", "kind", string(n.Kind), "order_id", n.OrderID,
		"customer_id", n.CustomerID, "event_id", n.EventID)
	return nil
}
