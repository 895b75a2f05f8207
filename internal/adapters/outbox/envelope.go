package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/app"
)

// Envelope is an integration event as it travels on the broker: the message payload is its JSON
// ({id, type, occurredAt, orderId, data}), and the message UUID is its ID.
type Envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurredAt"`
	OrderID    string          `json:"orderId"`
	Data       json.RawMessage `json:"data"`
}

// DecodeEnvelope reads a broker message payload.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return Envelope{}, fmt.Errorf("outbox: decode envelope: %w", err)
	}
	if env.ID == "" || env.Type == "" {
		return Envelope{}, errors.New("outbox: decode envelope: id and type are required")
	}
	return env, nil
}

// metaOccurredAt carries the event's occurredAt (RFC 3339, nanoseconds) beside the payload, so that
// the relay measures its lag without decoding payloads.
const metaOccurredAt = "occurred_at"

// topicPattern is what a topic may look like: dot-separated lowercase words, as NATS subjects,
// AMQP routing keys and Prometheus labels all accept.
var topicPattern = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

func newMessage(ctx context.Context, ev app.Event) (*message.Message, error) {
	if ev.ID == "" || ev.OccurredAt.IsZero() || !topicPattern.MatchString(ev.Type) {
		return nil, fmt.Errorf("outbox: event %q of type %q: id, occurredAt and a dotted lowercase type are required", ev.ID, ev.Type)
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("outbox: encode %s event %s: %w", ev.Type, ev.ID, err)
	}
	payload, err := json.Marshal(Envelope{ID: ev.ID, Type: ev.Type, OccurredAt: ev.OccurredAt.UTC(), OrderID: ev.OrderID, Data: data})
	if err != nil {
		return nil, fmt.Errorf("outbox: encode %s event %s: %w", ev.Type, ev.ID, err)
	}
	msg := message.NewMessage(ev.ID, payload)
	msg.Metadata.Set(metaOccurredAt, ev.OccurredAt.UTC().Format(time.RFC3339Nano))
	msg.SetContext(ctx)
	return msg, nil
}

// occurredAt reads the time newMessage stored on msg.
func occurredAt(msg *message.Message) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(metaOccurredAt))
	return t, err == nil
}
