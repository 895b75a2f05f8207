package sqlstore

import (
	"context"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
)

// TestStoreConformance_SQLiteAndPostgres runs the store port's suite on each dialect; every part
// of the suite gets a fresh, migrated database whose outbox is the test's recorder.
func TestStoreConformance_SQLiteAndPostgres(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func(*testing.T) *testDB) {
		porttest.RunStore(t, func(t *testing.T) (app.Store, porttest.Committed) {
			tdb := open(t)
			return tdb.store, tdb.committed
		}, porttest.StoreFeatures{BadCursor: ErrBadCursor})
	})
}

// committed reads back the events the recorder wrote (their id, topic and order).
func (tdb *testDB) committed(t *testing.T) []app.Event {
	t.Helper()
	var rows []struct {
		EventID string `bun:"event_id"`
		Topic   string `bun:"topic"`
		OrderID string `bun:"order_id"`
	}
	if err := tdb.db.NewSelect().TableExpr("test_outbox").Column("event_id", "topic", "order_id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	out := make([]app.Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, app.Event{ID: r.EventID, Type: r.Topic, OrderID: r.OrderID})
	}
	return out
}
