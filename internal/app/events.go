package app

import (
	"time"

	"github.com/wolfix/orders/internal/domain/order"
)

// Integration-event topics. Consumers subscribe to these names; they never change meaning.
const (
	TopicOrderCreated       = "orders.created"
	TopicOrderPaid          = "orders.paid"
	TopicOrderPaymentFailed = "orders.payment_failed"
	TopicOrderCancelled     = "orders.cancelled"
	TopicOrderRefunded      = "orders.refunded"
	TopicOrderDisputed      = "orders.disputed"
	TopicOrderShipped       = "orders.shipped"
	TopicOrderDelivered     = "orders.delivered"
	TopicPaymentAnomaly     = "payments.anomaly"
)

// topicOf maps an order change to the topic that announces it; changes without a topic are
// internal (they still appear on the order's timeline).
var topicOf = map[order.ChangeType]string{
	order.ChangePlaced:           TopicOrderCreated,
	order.ChangePaymentSucceeded: TopicOrderPaid,
	order.ChangePaymentFailed:    TopicOrderPaymentFailed,
	order.ChangeCancelled:        TopicOrderCancelled,
	order.ChangeRefunded:         TopicOrderRefunded,
	order.ChangeDisputed:         TopicOrderDisputed,
	order.ChangeShipped:          TopicOrderShipped,
	order.ChangeDelivered:        TopicOrderDelivered,
}

// OrderEventData is the data of every orders.* event: the order's state after the change, and
// the change itself. Amounts are minor units.
type OrderEventData struct {
	Number         string    `json:"number"`
	CustomerID     string    `json:"customerId"`
	Status         string    `json:"status"`
	PaymentStatus  string    `json:"paymentStatus"`
	PaymentMethod  string    `json:"paymentMethod"`
	TotalMinor     int64     `json:"totalMinor"`
	Currency       string    `json:"currency"`
	From           string    `json:"from,omitempty"`
	To             string    `json:"to,omitempty"`
	Cause          string    `json:"cause,omitempty"`
	FailureCode    string    `json:"failureCode,omitempty"`
	FailureMessage string    `json:"failureMessage,omitempty"`
	RefundedMinor  int64     `json:"refundedMinor"`
	Items          []ItemRef `json:"items,omitempty"`
}

// ItemRef is an order line in an event.
type ItemRef struct {
	ProductID      string `json:"productId"`
	SellerID       string `json:"sellerId"`
	Quantity       int64  `json:"quantity"`
	UnitPriceMinor int64  `json:"unitPriceMinor"`
}

// AnomalyData describes a provider report we refused to believe, for a human to look at.
type AnomalyData struct {
	IntentID string `json:"intentId"`
	Problem  string `json:"problem"`
	Cause    string `json:"cause"`
}

// eventsFor turns the order's new changes into integration events.
func eventsFor(o *order.Order) []Event {
	var events []Event
	for _, c := range o.NewChanges() {
		topic, ok := topicOf[c.Type]
		if !ok {
			continue
		}
		events = append(events, Event{ID: NewID(), Type: topic, OccurredAt: c.At, OrderID: o.ID(), Data: orderData(o, c)})
	}
	return events
}

func orderData(o *order.Order, c order.Change) OrderEventData {
	p := o.Payment()
	d := OrderEventData{Number: o.Number(), CustomerID: o.CustomerID(), Status: string(o.Status()),
		PaymentStatus: string(p.Status()), PaymentMethod: string(p.Method()),
		TotalMinor: o.Total().Minor(), Currency: o.Total().Currency().Code(),
		From: c.From, To: c.To, Cause: string(c.Cause)}
	switch c.Type {
	case order.ChangePlaced:
		for _, it := range o.Items() {
			d.Items = append(d.Items, ItemRef{ProductID: it.ProductID, SellerID: it.SellerID,
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
	return Event{ID: NewID(), Type: TopicPaymentAnomaly, OccurredAt: at, OrderID: orderID,
		Data: AnomalyData{IntentID: intentID, Problem: problem.Error(), Cause: string(cause)}}
}
