package consumers_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
)

// TestSkippedEventsAreNotClaimed places a card order, then a cash one, on one lane (one ordering
// key): the notifications skip the card order's orders.created without a write to the inbox, and
// claim and handle the cash order's.
func TestSkippedEventsAreNotClaimed(t *testing.T) {
	db := openSQLite(t)
	logger := discardLogger()
	b := gochannel.New(logger)
	t.Cleanup(func() { _ = b.Close() })
	r, err := consumers.NewRouter(b, b.Publisher(), newInbox(t, db, sqlstore.SQLite), logger, consumers.RouterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	notes := &memory.Notifier{}
	if err := r.React(app.NotificationReactions(notes)...); err != nil {
		t.Fatal(err)
	}
	run(t, r)

	publishOnOneLane(t, b, "ev-card", `{"customerId":"cus-1","paymentMethod":"card"}`)
	publishOnOneLane(t, b, "ev-cash", `{"customerId":"cus-1","paymentMethod":"cash_on_delivery"}`)
	waitFor(t, func() bool { return len(notes.Sent()) == 1 })
	if sent := notes.Sent(); sent[0].EventID != "ev-cash" {
		t.Fatalf("notified %+v; want the cash order's confirmation only", sent)
	}
	var claimed []string
	rows, err := db.Query(`SELECT event_id FROM consumed_events ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, id)
	}
	if len(claimed) != 1 || claimed[0] != "ev-cash" {
		t.Errorf("claimed %v; want [ev-cash]: a skipped event costs no write", claimed)
	}
}

// publishOnOneLane publishes an orders.created event of order ord-1 with its ordering key.
func publishOnOneLane(t *testing.T, b broker.Broker, id, data string) {
	t.Helper()
	payload, _ := json.Marshal(events.Envelope{ID: id, Type: events.TopicOrderCreated, OccurredAt: time.Now(),
		OrderID: "ord-1", Data: json.RawMessage(data)})
	msg := message.NewMessage(id, payload)
	msg.Metadata.Set(broker.MetaOrderingKey, "ord-1")
	if err := b.Publisher().Publish(events.TopicOrderCreated, msg); err != nil {
		t.Fatal(err)
	}
}
