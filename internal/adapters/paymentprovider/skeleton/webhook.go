package skeleton

import (
	"crypto/subtle"
	"encoding/json"
	"errors"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// TokenHeader carries the webhook token the provider and the service share.
const TokenHeader = "Skeleton-Token"

// Verifier is the skeleton's app.WebhookVerifier: a delivery carries the shared token in
// TokenHeader and a JSON array of events.
type Verifier struct {
	token []byte
}

var _ app.WebhookVerifier = (*Verifier)(nil)

// NewVerifier returns a Verifier of deliveries that carry token.
func NewVerifier(token string) (*Verifier, error) {
	if token == "" {
		return nil, errors.New("skeleton: a webhook token is required")
	}
	return &Verifier{token: []byte(token)}, nil
}

// eventJSON is one event of a delivery.
type eventJSON struct {
	ID     string            `json:"id"`
	Type   payment.EventType `json:"type"`
	Intent string            `json:"intent"`
}

// VerifyDelivery checks the token and reads every event of the batch.
func (v *Verifier) VerifyDelivery(payload []byte, headers app.WebhookHeaders) ([]payment.Event, error) {
	if subtle.ConstantTimeCompare([]byte(headers.Get(TokenHeader)), v.token) != 1 {
		return nil, app.ErrWebhookSignature
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(payload, &batch); err != nil || len(batch) == 0 {
		return nil, app.ErrWebhookPayload.WithMessage("a delivery is a non-empty JSON array of events")
	}
	events := make([]payment.Event, 0, len(batch))
	for _, raw := range batch {
		ev, err := v.Decode(raw)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// Decode reads one event, verified when its delivery was received.
func (v *Verifier) Decode(payload []byte) (payment.Event, error) {
	var ev eventJSON
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return payment.Event{}, app.ErrWebhookPayload.WithMessage("an event needs an id and a type")
	}
	return payment.Event{ID: ev.ID, Type: ev.Type, IntentID: ev.Intent, Payload: payload}, nil
}
