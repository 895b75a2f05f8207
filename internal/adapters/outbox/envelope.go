package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
)

// metaOccurredAt carries the event's occurredAt (RFC 3339, nanoseconds) beside the payload, so that
// the relay measures its lag without decoding payloads.
const metaOccurredAt = "occurred_at"

// newMessage is ev as a watermill message: the payload is its envelope (events.Encode), the UUID
// its id, the ordering key its order.
func newMessage(ctx context.Context, ev app.Event) (*message.Message, error) {
	payload, err := events.Encode(ev)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	msg := message.NewMessage(ev.ID, payload)
	msg.Metadata.Set(metaOccurredAt, ev.OccurredAt.UTC().Format(time.RFC3339Nano))
	msg.Metadata.Set(broker.MetaOrderingKey, ev.OrderID)
	msg.SetContext(ctx)
	return msg, nil
}

// occurredAt reads the time newMessage stored on msg.
func occurredAt(msg *message.Message) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(metaOccurredAt))
	return t, err == nil
}
