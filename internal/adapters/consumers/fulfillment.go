package consumers

import (
	"context"
	"errors"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

// Fulfiller hands a paid order to fulfillment. RequestFulfillment must be idempotent: the inbox
// drops redelivered events, but an event whose handler failed after the order was handed over is
// tried again.
type Fulfiller interface {
	RequestFulfillment(ctx context.Context, orderID string) error
}

// FulfillmentConsumer is the fulfillment consumer's group and dedupe name.
const FulfillmentConsumer = "fulfillment"

// fulfillmentTopic is the event that moves an order on to fulfillment.
const fulfillmentTopic = "orders.paid"

// errNoOrder is returned for an orders.paid event that names no order; it is poisoned.
var errNoOrder = errors.New("consumers: fulfillment: the event names no order")

// HandleFulfillment subscribes the fulfillment consumer on r: every orders.paid event asks f to
// fulfil its order, once per event id.
func HandleFulfillment(r *Router, f Fulfiller) error {
	if f == nil {
		return errors.New("consumers: fulfillment: a Fulfiller is required")
	}
	return r.Handle(FulfillmentConsumer, fulfillmentTopic, func(ctx context.Context, ev outbox.Envelope) error {
		if ev.OrderID == "" {
			return errNoOrder
		}
		return f.RequestFulfillment(ctx, ev.OrderID)
	})
}
