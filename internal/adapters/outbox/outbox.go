// Package outbox owns the transactional outbox: integration events written into the outbox table
// inside the caller's database transaction (watermill-sql's publisher behind the forwarder's
// envelope, so every topic shares one table), the relay that forwards committed rows to the broker
// (watermill's forwarder), the SQLite schema and offsets adapters that watermill-sql lacks, the
// events' JSON envelope on the broker, the relay's metrics and health, and the spans of writing
// and relaying each event, whose trace context the event carries in its message metadata.
package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/telemetry"
	"github.com/wolfix/orders/internal/app"
)

// Opener opens the outbox of one database transaction. Events published through it are rows of
// that transaction: the relay sees them when, and only if, the transaction commits.
type Opener func(ctx context.Context, tx *sql.Tx) (app.Outbox, error)

// NewOpener returns the Opener for dialect ("postgres" or "sqlite"). The outbox tables must exist
// (migrations create them): watermill cannot create tables inside a business transaction.
func NewOpener(dialect string, logger *slog.Logger) (Opener, error) {
	d, err := dialectFor(dialect, 0)
	if err != nil {
		return nil, err
	}
	wlog := telemetry.WatermillLogger(logger)
	return func(_ context.Context, tx *sql.Tx) (app.Outbox, error) {
		pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: d.schema}, wlog)
		if err != nil {
			return nil, fmt.Errorf("outbox: sql publisher: %w", err)
		}
		return txOutbox{rows: pub}, nil
	}, nil
}

// forwarderTopic is the SQL topic every event is written under; each row's envelope names the
// broker topic the relay publishes it to.
const forwarderTopic = "outbox"

// txOutbox is the outbox of one transaction.
type txOutbox struct {
	// rows is watermill-sql's publisher, which writes the messages of one call in one INSERT.
	rows message.Publisher
}

// Publish writes events, in order, into the transaction's outbox: each in the forwarder's envelope
// naming its topic, all of them in one INSERT (one round trip however many the transaction has).
func (o txOutbox) Publish(ctx context.Context, events ...app.Event) error {
	if len(events) == 0 {
		return nil
	}
	var batch envelopes
	wrap := forwarder.NewPublisher(&batch, forwarder.PublisherConfig{ForwarderTopic: forwarderTopic})
	ends := make([]func(error), 0, len(events))
	err := func() error {
		for _, ev := range events {
			msg, err := newMessage(ctx, ev)
			if err != nil {
				return err
			}
			ends = append(ends, traceWrite(ctx, ev.Type, msg))
			if err := wrap.Publish(ev.Type, msg); err != nil {
				return fmt.Errorf("outbox: envelope %s event %s: %w", ev.Type, ev.ID, err)
			}
		}
		if err := o.rows.Publish(forwarderTopic, batch...); err != nil {
			return fmt.Errorf("outbox: write %d events, the first %s %s: %w", len(events), events[0].Type, events[0].ID, err)
		}
		return nil
	}()
	for _, end := range ends {
		end(err)
	}
	return err
}

// envelopes is the message.Publisher under the forwarder's: it keeps the enveloped messages
// handed to it, for txOutbox to write in one INSERT.
type envelopes []*message.Message

func (e *envelopes) Publish(_ string, msgs ...*message.Message) error {
	*e = append(*e, msgs...)
	return nil
}

func (e *envelopes) Close() error { return nil }
