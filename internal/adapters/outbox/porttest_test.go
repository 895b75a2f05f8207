package outbox_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/testenv"
)

// TestOutboxConformance runs the outbox port's suite through the real store on each database:
// its transactions write their events through this outbox, and what committed is what the relay
// would read, the rows of the outbox table.
func TestOutboxConformance(t *testing.T) {
	databases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			porttest.RunOutbox(t, func(t *testing.T) (app.Store, porttest.Committed) {
				return openStore(t, db.url(t))
			})
		})
	}
}

// openStore opens a fresh, migrated database and the store over it that writes through the outbox.
func openStore(t *testing.T, url string) (app.Store, porttest.Committed) {
	t.Helper()
	ctx := context.Background()
	db, dialect, err := sqlstore.Open(ctx, url, t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := sqlstore.Migrate(ctx, db, dialect); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	opener, err := outbox.NewOpener(string(dialect), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	return sqlstore.NewStore(db, dialect, sqlstore.OutboxOpener(opener)), func(t *testing.T) []app.Event {
		t.Helper()
		var rows [][]byte
		if err := db.NewSelect().TableExpr("outbox_messages").Column("payload").Scan(ctx, &rows); err != nil {
			t.Fatalf("read the outbox: %v", err)
		}
		committed := make([]app.Event, 0, len(rows))
		for _, row := range rows {
			committed = append(committed, decodeRow(t, row))
		}
		return committed
	}
}

// decodeRow reads an outbox row: the forwarder's envelope around the event's own envelope.
func decodeRow(t *testing.T, row []byte) app.Event {
	t.Helper()
	var forwarded struct {
		Payload []byte `json:"payload"`
	}
	if err := json.Unmarshal(row, &forwarded); err != nil {
		t.Fatalf("an outbox row is no forwarder envelope: %v", err)
	}
	env, err := events.Decode(forwarded.Payload)
	if err != nil {
		t.Fatalf("an outbox row holds no event: %v", err)
	}
	return app.Event{ID: env.ID, Type: env.Type, OccurredAt: env.OccurredAt, OrderID: env.OrderID}
}
