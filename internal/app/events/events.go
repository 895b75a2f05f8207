// Package events is the integration-event contract of the orders service: the topics, the
// envelope every event travels in, the data of each topic and the contract's version. The unit of
// work derives events from the aggregates' recorded changes; the outbox adapter encodes them with
// Encode; consumers (ours and other teams') decode them with Decode. It knows no broker and no
// database.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/wolfix/orders/internal/domain/payment"
)

// Version is the envelope's contract version. A consumer refuses an envelope of a later version
// than it knows; an envelope without one was written before versions were stamped (version 1).
// Adding a field to a payload keeps the version; renaming, removing or changing the meaning of
// one, or of a topic, raises it.
const Version = 1

// Topics. Each is a fact the rest of the company may act on; a topic never changes meaning.
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

// The payment methods OrderData.PaymentMethod names.
const (
	PaymentMethodCard = string(payment.MethodCard)
	PaymentMethodCash = string(payment.MethodCash)
)

// Event is an integration event as its producer states it; Type is its topic and Data its
// topic's data (OrderData for orders.*, AnomalyData for payments.anomaly).
type Event struct {
	ID         string
	Type       string
	OccurredAt time.Time
	OrderID    string
	Data       any
}

// Envelope is an event as it travels: the JSON {id, type, version, occurredAt, orderId, data}.
type Envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Version    int             `json:"version"`
	OccurredAt time.Time       `json:"occurredAt"`
	OrderID    string          `json:"orderId"`
	Data       json.RawMessage `json:"data"`
}

// OrderData is the data of every orders.* event: the order's state after the change, and the
// change itself. Amounts are minor units of Currency.
type OrderData struct {
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

// ItemRef is an order line in orders.created.
type ItemRef struct {
	ProductID      string `json:"productId"`
	SellerID       string `json:"sellerId"`
	Quantity       int64  `json:"quantity"`
	UnitPriceMinor int64  `json:"unitPriceMinor"`
}

// AnomalyData is the data of payments.anomaly: a provider report we refused to believe, for a
// human to look at.
type AnomalyData struct {
	IntentID string `json:"intentId"`
	Problem  string `json:"problem"`
	Cause    string `json:"cause"`
}

// topicPattern is what a topic may look like: dot-separated lowercase words, as NATS subjects,
// AMQP routing keys, Redis stream names and Prometheus labels all accept.
var topicPattern = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// ErrMalformed reports an event or envelope that breaks the contract.
var ErrMalformed = errors.New("events: malformed event")

// Encode checks ev against the contract and returns its envelope's JSON at the current Version.
func Encode(ev Event) ([]byte, error) {
	if ev.ID == "" || ev.OccurredAt.IsZero() || !topicPattern.MatchString(ev.Type) {
		return nil, fmt.Errorf("%w: event %q of type %q: id, occurredAt and a dotted lowercase type are required",
			ErrMalformed, ev.ID, ev.Type)
	}
	payload, err := json.Marshal(outgoing{Envelope: Envelope{ID: ev.ID, Type: ev.Type, Version: Version,
		OccurredAt: ev.OccurredAt.UTC(), OrderID: ev.OrderID}, Data: ev.Data})
	if err != nil {
		return nil, fmt.Errorf("events: encode %s event %s: %w", ev.Type, ev.ID, err)
	}
	return payload, nil
}

// outgoing is an Envelope as Encode writes it: its Data, not yet encoded, takes the place of the
// Envelope's (the shallower field wins), so the data is encoded in the same pass as the envelope,
// where already encoded data would be scanned again to be embedded.
type outgoing struct {
	Envelope
	Data any `json:"data"`
}

// Decode reads an envelope's JSON. It refuses one without an id or type, and one of a later
// version than this contract.
func Decode(payload []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return Envelope{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if env.ID == "" || env.Type == "" {
		return Envelope{}, fmt.Errorf("%w: id and type are required", ErrMalformed)
	}
	if env.Version == 0 {
		env.Version = 1
	}
	if env.Version > Version {
		return Envelope{}, fmt.Errorf("%w: event %s has version %d; this contract knows up to %d",
			ErrMalformed, env.ID, env.Version, Version)
	}
	return env, nil
}

// OrderData decodes the data of an orders.* envelope.
func (e Envelope) OrderData() (OrderData, error) {
	var d OrderData
	return d, e.decodeData(&d)
}

// OrderSummary is the part of OrderData that says whose order it is and how it is paid: all that a
// consumer which only addresses or sorts order events needs, decoded without the rest.
type OrderSummary struct {
	CustomerID    string `json:"customerId"`
	PaymentMethod string `json:"paymentMethod"`
}

// OrderSummary decodes the customer and payment method of an orders.* envelope.
func (e Envelope) OrderSummary() (OrderSummary, error) {
	var s OrderSummary
	return s, e.decodeData(&s)
}

func (e Envelope) decodeData(into any) error {
	if err := json.Unmarshal(e.Data, into); err != nil {
		return fmt.Errorf("%w: %s event %s: data: %w", ErrMalformed, e.Type, e.ID, err)
	}
	return nil
}
