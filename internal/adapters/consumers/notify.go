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

// notificationRule says which message a topic sends, and for which payment method ("" = any).
type notificationRule struct {
	kind   NotificationKind
	method string
}

// notificationTopics maps the topics the customer hears about to their message. A card order is
// confirmed when it is paid; a cash-on-delivery order as soon as it is placed.
var notificationTopics = map[string]notificationRule{
	"orders.created":        {OrderConfirmed, "cash_on_delivery"},
	"orders.paid":           {OrderConfirmed, "card"},
	"orders.payment_failed": {PaymentFailed, ""},
	"orders.refunded":       {OrderRefunded, ""},
}

// HandleNotifications subscribes the notifications consumer on r, sending through n.
func HandleNotifications(r *Router, n Notifier) error {
	for topic, rule := range notificationTopics {
		if err := r.Handle(NotificationsConsumer, topic, notify(n, rule)); err != nil {
			return err
		}
	}
	return nil
}

func notify(n Notifier, rule notificationRule) Handler {
	return func(ctx context.Context, ev outbox.Envelope) error {
		var data struct {
			CustomerID    string `json:"customerId"`
			PaymentMethod string `json:"paymentMethod"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return fmt.Errorf("consumers: %s event %s: data: %w", ev.Type, ev.ID, err)
		}
		if rule.method != "" && data.PaymentMethod != rule.method {
			return nil
		}
		return n.Notify(ctx, Notification{Kind: rule.kind, EventID: ev.ID, OrderID: ev.OrderID, CustomerID: data.CustomerID})
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
