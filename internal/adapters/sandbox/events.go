package sandbox

import (
	"encoding/json"
	"fmt"
	"time"

	stripeapi "github.com/stripe/stripe-go/v76"

	"github.com/wolfix/orders/internal/domain/payment"
)

// Event is one Stripe-shaped event the sandbox emitted, as the unsigned JSON body Stripe would
// POST. ID, Type and IntentID repeat what the body says, so that senders can log them, and keep
// the events of one payment intent in order, without parsing it.
type Event struct {
	ID   string
	Type payment.EventType
	// IntentID is the payment intent the event is about (for charge.refunded: the charge's).
	IntentID string
	Body     []byte
}

// EventSink receives the sandbox's events. Send must not block.
type EventSink interface {
	Send(ev Event)
}

type discard struct{}

func (discard) Send(Event) {}

// eventJSON is Stripe's event envelope, rendered with the API version stripe-go v76 pins.
type eventJSON struct {
	ID              string        `json:"id"`
	Object          string        `json:"object"`
	APIVersion      string        `json:"api_version"`
	Created         int64         `json:"created"`
	Livemode        bool          `json:"livemode"`
	PendingWebhooks int           `json:"pending_webhooks"`
	Type            string        `json:"type"`
	Data            eventDataJSON `json:"data"`
}

type eventDataJSON struct {
	Object any `json:"object"`
}

// intentJSON is the part of a Stripe PaymentIntent the sandbox renders. It leaves out the client
// secret on purpose: the event body is stored by the receiver, which has no use for it.
type intentJSON struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Amount           int64             `json:"amount"`
	AmountReceived   int64             `json:"amount_received"`
	Currency         string            `json:"currency"`
	Status           string            `json:"status"`
	Created          int64             `json:"created"`
	Livemode         bool              `json:"livemode"`
	LatestCharge     *string           `json:"latest_charge"`
	LastPaymentError *paymentErrorJSON `json:"last_payment_error"`
	Metadata         map[string]string `json:"metadata"`
}

type paymentErrorJSON struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message"`
}

// chargeJSON is the part of a Stripe Charge the sandbox renders for charge.refunded.
type chargeJSON struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Currency       string            `json:"currency"`
	PaymentIntent  string            `json:"payment_intent"`
	Refunded       bool              `json:"refunded"`
	Status         string            `json:"status"`
	Metadata       map[string]string `json:"metadata"`
}

func newEvent(typ payment.EventType, intentID string, object any, at time.Time) (Event, error) {
	id := newID("evt")
	body, err := json.Marshal(eventJSON{ID: id, Object: "event", APIVersion: stripeapi.APIVersion,
		Created: at.Unix(), Type: string(typ), Data: eventDataJSON{Object: object}})
	if err != nil {
		return Event{}, fmt.Errorf("sandbox: render event %s: %w", typ, err)
	}
	return Event{ID: id, Type: typ, IntentID: intentID, Body: body}, nil
}

func (in *intent) eventObject() intentJSON {
	o := intentJSON{ID: in.id, Object: "payment_intent", Amount: in.amount, Currency: in.currency,
		Status: string(in.status), Created: in.created.Unix(), Metadata: in.metadata()}
	if in.chargeID != "" {
		o.LatestCharge, o.AmountReceived = &in.chargeID, in.amount
	}
	if e := in.lastError; e != nil {
		o.LastPaymentError = &paymentErrorJSON{Type: "card_error", Code: e.code, DeclineCode: e.declineCode, Message: e.message}
	}
	return o
}

func (in *intent) chargeObject() chargeJSON {
	return chargeJSON{ID: in.chargeID, Object: "charge", Amount: in.amount, AmountRefunded: in.refunded,
		Currency: in.currency, PaymentIntent: in.id, Refunded: in.refunded == in.amount,
		Status: "succeeded", Metadata: in.metadata()}
}

func (in *intent) metadata() map[string]string {
	return map[string]string{"order_id": in.orderID, "payment_id": in.paymentID}
}
