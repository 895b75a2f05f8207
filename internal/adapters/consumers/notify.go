package consumers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

// Notifier tells a customer what happened to their order (by e-mail, or only in the log).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one message to a customer.
type Notification struct {
	Kind       NotificationKind
	EventID    string
	OrderID    string
	CustomerID string
}

// NotificationKind says which message to send.
type NotificationKind string

// Kinds of notification.
const (
	OrderConfirmed NotificationKind = "order_confirmed"
	PaymentFailed  NotificationKind = "payment_failed"
	OrderRefunded  NotificationKind = "order_refunded"
)

// NotificationsConsumer is the notifications consumer's group and dedupe name.
const NotificationsConsumer = "notifications"

// notificationTopics maps the topics the customer hears about to their message.
var notificationTopics = map[string]NotificationKind{
	"orders.created":        OrderConfirmed,
	"orders.payment_failed": PaymentFailed,
	"orders.refunded":       OrderRefunded,
}

// HandleNotifications subscribes the notifications consumer on r, sending through n.
func HandleNotifications(r *Router, n Notifier) error {
	for topic, kind := range notificationTopics {
		if err := r.Handle(NotificationsConsumer, topic, notify(n, kind)); err != nil {
			return err
		}
	}
	return nil
}

func notify(n Notifier, kind NotificationKind) Handler {
	return func(ctx context.Context, ev outbox.Envelope) error {
		var data struct {
			CustomerID string `json:"customerId"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return fmt.Errorf("consumers: %s event %s: data: %w", ev.Type, ev.ID, err)
		}
		return n.Notify(ctx, Notification{Kind: kind, EventID: ev.ID, OrderID: ev.OrderID, CustomerID: data.CustomerID})
	}
}

// LogNotifier is the default Notifier: it logs who would be told what, and nothing personal.
type LogNotifier struct {
	Logger *slog.Logger
}

// Notify logs n.
func (l LogNotifier) Notify(ctx context.Context, n Notification) error {
	l.Logger.InfoContext(ctx, "notification", "kind", string(n.Kind), "order_id", n.OrderID,
		"customer_id", n.CustomerID, "event_id", n.EventID)
	return nil
}
