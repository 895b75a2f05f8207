package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Tolerance is how far a webhook's signed timestamp may be from now, in the past (a possible
// replay) or in the future (a forged or badly skewed clock), before the event is refused.
const Tolerance = 300 * time.Second

// SignatureHeader is the HTTP header that carries Stripe's webhook signature.
const SignatureHeader = "Stripe-Signature"

// Verifier is the app.WebhookVerifier for Stripe's signed webhooks (and the sandbox's, which signs
// the same way). It accepts events of any API version; the package doc says why.
type Verifier struct {
	secret string
	now    func() time.Time
}

var _ app.WebhookVerifier = (*Verifier)(nil)

// ErrNoWebhookSecret is returned by NewVerifier without a signing secret.
var ErrNoWebhookSecret = errors.New("stripe: a webhook signing secret is required")

// NewVerifier returns a Verifier for the endpoint's signing secret (whsec_…).
func NewVerifier(secret string) (*Verifier, error) { return NewVerifierWithClock(secret, time.Now) }

// NewVerifierWithClock is NewVerifier with the clock that judges signature timestamps.
func NewVerifierWithClock(secret string, now func() time.Time) (*Verifier, error) {
	if strings.TrimSpace(secret) == "" {
		return nil, ErrNoWebhookSecret
	}
	return &Verifier{secret: secret, now: now}, nil
}

// Verify checks the Stripe-Signature header against the raw body and decodes the event. It fails
// with app.ErrWebhookSignature when the header is missing, malformed or wrong, or its signed
// timestamp is more than Tolerance before or after now, and with app.ErrWebhookPayload when a
// correctly signed body is not an event.
func (v *Verifier) Verify(payload []byte, signatureHeader string) (payment.Event, error) {
	if err := webhook.ValidatePayloadIgnoringTolerance(payload, signatureHeader, v.secret); err != nil {
		return payment.Event{}, app.ErrWebhookSignature.Wrap(err)
	}
	if err := v.checkTimestamp(signatureHeader); err != nil {
		return payment.Event{}, err
	}
	return v.Decode(payload)
}

// VerifyDelivery is Verify on the Stripe-Signature header of a delivery: Stripe sends one event
// per delivery.
func (v *Verifier) VerifyDelivery(payload []byte, headers app.WebhookHeaders) ([]payment.Event, error) {
	ev, err := v.Verify(payload, headers.Get(SignatureHeader))
	if err != nil {
		return nil, err
	}
	return []payment.Event{ev}, nil
}

// checkTimestamp refuses a signature whose t= lies outside Tolerance of now in either direction.
// It runs after the signature check, so the timestamp it reads is the signed one.
func (v *Verifier) checkTimestamp(signatureHeader string) error {
	signedAt, ok := signedTimestamp(signatureHeader)
	if !ok {
		return app.ErrWebhookSignature.WithMessage("the webhook signature has no timestamp")
	}
	if skew := v.now().Sub(signedAt); skew > Tolerance || skew < -Tolerance {
		return app.ErrWebhookSignature.WithMessage("the webhook was signed %s from now, beyond the %s tolerance",
			skew.Round(time.Second), Tolerance)
	}
	return nil
}

// signedTimestamp reads the t= element of a Stripe-Signature header.
func signedTimestamp(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if raw, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			unix, err := strconv.ParseInt(raw, 10, 64)
			return time.Unix(unix, 0), err == nil
		}
	}
	return time.Time{}, false
}

// Decode rebuilds the payment.Event of a stored payload exactly as Verify would, dispute details
// included, but checks no signature. It is only for payloads that were verified on receipt (a
// replay from the webhook inbox), or, in Verify, once the signature is checked; never call it on
// a body fresh from the network. It fails with app.ErrWebhookPayload when the payload is not an
// event.
func (v *Verifier) Decode(payload []byte) (payment.Event, error) {
	var ev signedEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return payment.Event{}, app.ErrWebhookPayload.Wrap(fmt.Errorf("stripe: read event: %w", err))
	}
	if ev.ID == "" || ev.Type == "" || ev.Data == nil {
		return payment.Event{}, app.ErrWebhookPayload.WithMessage("the webhook event lacks an id, type or data")
	}
	if !inputcheck.ID(ev.ID) || !inputcheck.ID(ev.Type) || !optionalID(ev.APIVersion) {
		return payment.Event{}, app.ErrWebhookPayload.WithMessage("the webhook event's id, type or api_version is not an identifier")
	}
	obj, err := decodeObject(ev.Data.Object)
	if err != nil {
		return payment.Event{}, app.ErrWebhookPayload.Wrap(err)
	}
	intentID, err := obj.intentID()
	if err != nil {
		return payment.Event{}, app.ErrWebhookPayload.Wrap(err)
	}
	if !optionalID(intentID) || !optionalID(obj.Status) || !optionalID(obj.Reason) || !optionalID(obj.Currency) {
		return payment.Event{}, app.ErrWebhookPayload.WithMessage("the webhook object's payment_intent, status, reason or currency is not an identifier")
	}
	return payment.Event{
		ID:         ev.ID,
		Type:       payment.EventType(ev.Type),
		IntentID:   intentID,
		APIVersion: ev.APIVersion,
		Payload:    payload,
		Dispute:    obj.dispute(),
	}, nil
}

// signedEvent holds the fields of a Stripe event the service reads. stripe-go's Event would also
// decode the whole data.object into a map, and its other fields, none of which the service reads.
type signedEvent struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Data       *struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// optionalID accepts "" or an identifier: the values the service stores from an event body are
// all ids or enum words, and none may carry a NUL byte PostgreSQL would refuse.
func optionalID(s string) bool { return s == "" || inputcheck.ID(s) }

// eventObject holds the fields of an event's data.object the service reads: what names the
// payment intent, and for disputes their state.
type eventObject struct {
	ID            string          `json:"id"`
	Object        string          `json:"object"`
	PaymentIntent json.RawMessage `json:"payment_intent"`
	Status        string          `json:"status"`
	Reason        string          `json:"reason"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency"`
}

func decodeObject(raw json.RawMessage) (eventObject, error) {
	var obj eventObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		return eventObject{}, fmt.Errorf("stripe: read event object: %w", err)
	}
	return obj, nil
}

// intentID returns the payment intent the object concerns: the object itself when it is a
// payment_intent, else its payment_intent field (charges, refunds, disputes), which is an id or,
// when expanded, an object with an id. Objects that concern no intent yield "".
func (o eventObject) intentID() (string, error) {
	if o.Object == "payment_intent" {
		return o.ID, nil
	}
	return idOf(o.PaymentIntent)
}

// dispute returns the dispute's state when the object is a dispute. Disputes cannot be re-read
// through the gateway, so this is the one place the service trusts an event body, after its
// signature was checked.
func (o eventObject) dispute() *payment.DisputeReport {
	if o.Object != "dispute" {
		return nil
	}
	return &payment.DisputeReport{Status: o.Status, Reason: o.Reason, Amount: o.Amount, Currency: o.Currency}
}

func idOf(ref json.RawMessage) (string, error) {
	if len(ref) == 0 || string(ref) == "null" {
		return "", nil
	}
	var id string
	if err := json.Unmarshal(ref, &id); err == nil {
		return id, nil
	}
	var expanded struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ref, &expanded); err != nil {
		return "", fmt.Errorf("stripe: read payment_intent reference: %w", err)
	}
	return expanded.ID, nil
}
