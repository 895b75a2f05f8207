package app

import (
	"context"
	"errors"
	"slices"

	"github.com/wolfix/orders/internal/app/events"
)

// Reaction is work the service does itself when one of its events is published: Consumer names
// the consumer (its broker group and its name in the consumers' dedupe table), Topic the event it
// reacts to, Handle what it does. A driving adapter (the consumers' router) delivers each event of
// Topic to Handle once per event id; an error retries it. Skips (optional) names the events of
// Topic the reaction leaves alone, seen from the event alone: the router acks them without
// recording them as handled, a write saved (a card order's orders.created, for the notifications).
type Reaction struct {
	Consumer string
	Topic    string
	Handle   func(ctx context.Context, ev events.Envelope) error
	Skips    func(ev events.Envelope) bool
}

// The service's consumers.
const (
	NotificationsConsumer = "notifications"
	FulfillmentConsumer   = "fulfillment"
)

// Notifier tells a customer what happened to their order (by e-mail, or only in the log). Every
// implementation passes porttest.RunNotifier.
type Notifier interface {
	// Notify sends n. An error means it was not sent and retrying may help.
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
	NotifyOrderConfirmed NotificationKind = "order_confirmed"
	NotifyPaymentFailed  NotificationKind = "payment_failed"
	NotifyOrderRefunded  NotificationKind = "order_refunded"
)

// notificationRule says which message a topic sends, and for which payment method ("" = any).
type notificationRule struct {
	kind   NotificationKind
	method string
}

// wants reports whether the rule sends its message for an order paid by method.
func (r notificationRule) wants(method string) bool { return r.method == "" || method == r.method }

// skips reports an event of another payment method than the rule's; an event whose data does not
// decode is not skipped (handling it fails, and it is poisoned).
func (r notificationRule) skips(ev events.Envelope) bool {
	summary, err := ev.OrderSummary()
	return err == nil && !r.wants(summary.PaymentMethod)
}

// notificationRules maps the topics the customer hears about to their message. A card order is
// confirmed when it is paid; a cash-on-delivery order as soon as it is placed.
var notificationRules = []struct {
	topic string
	rule  notificationRule
}{
	{events.TopicOrderCreated, notificationRule{NotifyOrderConfirmed, events.PaymentMethodCash}},
	{events.TopicOrderPaid, notificationRule{NotifyOrderConfirmed, events.PaymentMethodCard}},
	{events.TopicOrderPaymentFailed, notificationRule{NotifyPaymentFailed, ""}},
	{events.TopicOrderRefunded, notificationRule{NotifyOrderRefunded, ""}},
}

// NotificationKinds are the messages a customer can get, each once.
func NotificationKinds() []NotificationKind {
	var kinds []NotificationKind
	for _, r := range notificationRules {
		if !slices.Contains(kinds, r.rule.kind) {
			kinds = append(kinds, r.rule.kind)
		}
	}
	return kinds
}

// NotificationReactions are the notifications consumer: each topic the customer hears about sends
// its message through n.
func NotificationReactions(n Notifier) []Reaction {
	out := make([]Reaction, 0, len(notificationRules))
	for _, r := range notificationRules {
		rule := r.rule
		out = append(out, Reaction{Consumer: NotificationsConsumer, Topic: r.topic, Skips: rule.skips,
			Handle: func(ctx context.Context, ev events.Envelope) error {
				summary, err := ev.OrderSummary()
				if err != nil {
					return err
				}
				if !rule.wants(summary.PaymentMethod) {
					return nil
				}
				return n.Notify(ctx, Notification{Kind: rule.kind, EventID: ev.ID, OrderID: ev.OrderID,
					CustomerID: summary.CustomerID})
			}})
	}
	return out
}

// errNoOrder is returned for an orders.paid event that names no order; it is poisoned.
var errNoOrder = errors.New("app: fulfillment: the event names no order")

// Reactions are the fulfillment consumer: every orders.paid event hands its order to the
// warehouse (RequestFulfillment), once per event id.
func (h *FulfillmentHandler) Reactions() []Reaction {
	return []Reaction{{Consumer: FulfillmentConsumer, Topic: events.TopicOrderPaid,
		Handle: func(ctx context.Context, ev events.Envelope) error {
			if ev.OrderID == "" {
				return errNoOrder
			}
			return h.RequestFulfillment(ctx, ev.OrderID)
		}}}
}

// ReactionLog remembers, per consumer, the events its reactions handled, so that each event acts
// once although the broker delivers it at least once. Every implementation passes
// porttest.RunReactionLog.
type ReactionLog interface {
	// Claim holds eventID for consumer while its reaction runs. It reports ReactionDone when the
	// consumer handled the event already, and ReactionHeld while another delivery holds it; a
	// claim older than the log's lease belonged to a consumer that died and is taken over.
	Claim(ctx context.Context, consumer, eventID string) (ReactionClaim, error)
	// Release gives up a claim whose reaction failed, so that a redelivery runs it again.
	Release(ctx context.Context, consumer, eventID string) error
	// Done marks a claimed event handled. A log may write the mark later (with its next claim, or
	// on Flush); until then the event stays claimed, so a redelivery waits or, after a crash, runs
	// it again once the claim's lease ran out.
	Done(ctx context.Context, consumer, eventID string) error
	// Flush writes the marks Done has not written yet.
	Flush(ctx context.Context) error
}

// ReactionClaim is what Claim found.
type ReactionClaim int

// The outcomes of ReactionLog.Claim.
const (
	ReactionClaimed ReactionClaim = iota // the caller holds the event and runs its reaction
	ReactionDone                         // the consumer handled the event already
	ReactionHeld                         // another delivery holds the event right now
)
