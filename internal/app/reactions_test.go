package app

import (
	"context"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app/events"
)

type recordingNotifier struct{ sent []Notification }

func (r *recordingNotifier) Notify(_ context.Context, n Notification) error {
	r.sent = append(r.sent, n)
	return nil
}

// TestNotificationReactions: a card order is confirmed when paid, a cash order when placed; failed
// payments and refunds are told whatever the method; other topics have no reaction.
func TestNotificationReactions(t *testing.T) {
	n := &recordingNotifier{}
	byTopic := map[string]Reaction{}
	for _, r := range NotificationReactions(n) {
		if r.Consumer != NotificationsConsumer {
			t.Errorf("reaction to %s runs as %q; want %q", r.Topic, r.Consumer, NotificationsConsumer)
		}
		byTopic[r.Topic] = r
	}
	tests := []struct {
		topic, method string
		want          NotificationKind // "" = nothing sent
	}{
		{events.TopicOrderCreated, events.PaymentMethodCard, ""},
		{events.TopicOrderCreated, events.PaymentMethodCash, NotifyOrderConfirmed},
		{events.TopicOrderPaid, events.PaymentMethodCard, NotifyOrderConfirmed},
		{events.TopicOrderPaid, events.PaymentMethodCash, ""},
		{events.TopicOrderPaymentFailed, events.PaymentMethodCard, NotifyPaymentFailed},
		{events.TopicOrderRefunded, events.PaymentMethodCash, NotifyOrderRefunded},
	}
	for _, tt := range tests {
		n.sent = nil
		env := envelopeOf(t, events.Event{ID: "ev-1", Type: tt.topic, OccurredAt: time.Now(), OrderID: "o-1",
			Data: events.OrderData{CustomerID: "c-1", PaymentMethod: tt.method}})
		if err := byTopic[tt.topic].Handle(context.Background(), env); err != nil {
			t.Fatalf("%s (%s): %v", tt.topic, tt.method, err)
		}
		switch {
		case tt.want == "" && len(n.sent) != 0:
			t.Errorf("%s (%s): sent %v; want nothing", tt.topic, tt.method, n.sent)
		case tt.want != "" && (len(n.sent) != 1 || n.sent[0] != Notification{Kind: tt.want, EventID: "ev-1", OrderID: "o-1", CustomerID: "c-1"}):
			t.Errorf("%s (%s): sent %v; want one %s to c-1", tt.topic, tt.method, n.sent, tt.want)
		}
	}
	if _, ok := byTopic[events.TopicOrderShipped]; ok {
		t.Error("orders.shipped notifies; it should not")
	}
}

func TestFulfillmentReactionRefusesAnEventWithoutAnOrder(t *testing.T) {
	rs := (&FulfillmentHandler{}).Reactions()
	if len(rs) != 1 || rs[0].Topic != events.TopicOrderPaid || rs[0].Consumer != FulfillmentConsumer {
		t.Fatalf("reactions: %+v; want one on orders.paid as the fulfillment consumer", rs)
	}
	env := envelopeOf(t, events.Event{ID: "ev-1", Type: events.TopicOrderPaid, OccurredAt: time.Now()})
	if err := rs[0].Handle(context.Background(), env); err != errNoOrder {
		t.Errorf("an orders.paid without an order: %v; want errNoOrder", err)
	}
}

func envelopeOf(t *testing.T, ev events.Event) events.Envelope {
	t.Helper()
	payload, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	env, err := events.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	return env
}
