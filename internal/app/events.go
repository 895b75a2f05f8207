package app

import (
	"time"

	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/order"
)

// topicOf maps an order change to the topic that announces it; changes without a topic are
// internal (they still appear on the order's timeline).
var topicOf = map[order.ChangeType]string{
	order.ChangePlaced:           events.TopicOrderCreated,
	order.ChangePaymentSucceeded: events.TopicOrderPaid,
	order.ChangePaymentFailed:    events.TopicOrderPaymentFailed,
	order.ChangeCancelled:        events.TopicOrderCancelled,
	order.ChangeRefunded:         events.TopicOrderRefunded,
	order.ChangeDisputed:         events.TopicOrderDisputed,
	order.ChangeShipped:          events.TopicOrderShipped,
	order.ChangeDelivered:        events.TopicOrderDelivered,
}

// eventsFor turns the order's new changes into integration events.
func eventsFor(o *order.Order) []Event {
	var out []Event
	for _, c := range o.NewChanges() {
		topic, ok := topicOf[c.Type]
		if !ok {
			continue
		}
		out = append(out, Event{ID: NewID(), Type: topic, OccurredAt: c.At, OrderID: o.ID(), Data: orderData(o, c)})
	}
	return out
}

func orderData(o *order.Order, c order.Change) events.OrderData {
	p := o.Payment()
	d := events.OrderData{Number: o.Number(), CustomerID: o.CustomerID(), Status: string(o.Status()),
		PaymentStatus: string(p.Status()), PaymentMethod: string(p.Method()),
		TotalMinor: o.Total().Minor(), Currency: o.Total().Currency().Code(),
		From: c.From, To: c.To, Cause: string(c.Cause)}
	switch c.Type {
	case order.ChangePlaced:
		for _, it := range o.Items() {
			d.Items = append(d.Items, events.ItemRef{ProductID: it.ProductID, SellerID: it.SellerID,
				Quantity: it.Quantity, UnitPriceMinor: it.UnitPrice.Minor()})
		}
	case order.ChangePaymentFailed:
		d.FailureCode, d.FailureMessage = p.FailureCode(), p.FailureMessage()
	}
	if refunded, err := o.RefundedAmount(); err == nil {
		d.RefundedMinor = refunded.Minor()
	}
	return d
}

func anomalyEvent(orderID, intentID string, problem error, cause order.Cause, at time.Time) Event {
	return Event{ID: NewID(), Type: events.TopicPaymentAnomaly, OccurredAt: at, OrderID: orderID,
		Data: events.AnomalyData{IntentID: intentID, Problem: problem.Error(), Cause: string(cause)}}
}
