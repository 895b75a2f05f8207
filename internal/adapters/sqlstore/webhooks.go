package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/domain/payment"
)

type webhookEventRow struct {
	bun.BaseModel `bun:"table:webhook_events,alias:we"`

	EventID     string    `bun:"event_id,pk"`
	Type        string    `bun:"type"`
	IntentID    string    `bun:"intent_id"`
	APIVersion  string    `bun:"api_version"`
	Payload     []byte    `bun:"payload"`
	ReceivedAt  time.Time `bun:"received_at"`
	ProcessedAt time.Time `bun:"processed_at,nullzero"`
	Problem     string    `bun:"problem"`
}

// webhookInbox is app.WebhookInbox: the provider's event id is the primary key, so the database
// decides which of several concurrent deliveries of one event is the first.
type webhookInbox struct{ repos }

func (w webhookInbox) Record(ctx context.Context, ev payment.Event, receivedAt time.Time) (bool, error) {
	row := &webhookEventRow{EventID: ev.ID, Type: string(ev.Type), IntentID: ev.IntentID,
		APIVersion: ev.APIVersion, Payload: ev.Payload, ReceivedAt: receivedAt.UTC()}
	if row.Payload == nil {
		row.Payload = []byte{} // the column is NOT NULL; an empty body is still a body
	}
	inserted, err := insertIfAbsent(ctx, w.db.NewInsert().Model(row), "event_id")
	if err != nil {
		return false, fmt.Errorf("record webhook event %s: %w", ev.ID, err)
	}
	return inserted, nil
}

func (w webhookInbox) MarkProcessed(ctx context.Context, eventID string, problem string, at time.Time) error {
	res, err := w.db.NewUpdate().Model((*webhookEventRow)(nil)).
		Set("processed_at = ?", at.UTC()).Set("problem = ?", problem).
		Where("event_id = ?", eventID).Exec(ctx)
	if err == nil {
		err = requireOneRow(res, "event is not recorded")
	}
	if err != nil {
		return fmt.Errorf("mark webhook event %s processed: %w", eventID, err)
	}
	return nil
}

// insertIfAbsent runs ins with ON CONFLICT (key) DO NOTHING and reports whether it inserted.
func insertIfAbsent(ctx context.Context, ins *bun.InsertQuery, key string) (bool, error) {
	res, err := ins.On("CONFLICT (" + key + ") DO NOTHING").Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// requireOneRow fails unless the statement changed exactly one row.
func requireOneRow(res sql.Result, problem string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%s", problem)
	}
	return nil
}
