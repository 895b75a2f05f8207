package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/testenv"
)

// TestPruneDeletesOnlyOldFinishedRows fills each table the retention prunes with old and fresh
// rows, and rows that must stay however old (unrelayed outbox rows, unprocessed webhooks, events
// still being handled), runs one pass in batches of 2, and counts what is left.
func TestPruneDeletesOnlyOldFinishedRows(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite": func(*testing.T) string { return "" }, "postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)
			cfg := config.Defaults()
			cfg.DatabaseURL, cfg.DataDir, cfg.PruneBatchSize = url(t), t.TempDir(), 2
			d, cleanup, err := provideDatabase(ctx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cleanup)
			opener, err := provideOutboxOpener(d, log)
			if err != nil {
				t.Fatal(err)
			}
			p, err := providePruner(cfg, d, provideStore(d, opener), log)
			if err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-3 * 30 * 24 * time.Hour) // older than every default age
			fresh := time.Now().Add(-time.Minute)
			f := &pruneFixture{t: t, d: d}
			f.outbox(ctx, opener, 5, 3)
			for i, at := range []time.Time{old, old, old, fresh} {
				f.insert(ctx, "idempotency_keys", map[string]any{"scope": "s", "key": fmt.Sprint(i), "request_hash": "h",
					"created_at": at, "expires_at": at.Add(24 * time.Hour)})
			}
			for i, row := range []struct {
				received  time.Time
				processed any
			}{{old, old}, {old, old}, {old, old}, {fresh, fresh}, {old, nil}} {
				f.insert(ctx, "webhook_events", map[string]any{"event_id": fmt.Sprint("evt_", i), "type": "payment_intent.succeeded",
					"payload": []byte("{}"), "received_at": row.received, "processed_at": row.processed})
			}
			for i, row := range []struct{ claimed, done any }{{old, old}, {old, old}, {fresh, fresh}, {old, nil}} {
				f.insert(ctx, "consumed_events", map[string]any{"consumer": "c", "event_id": fmt.Sprint(i),
					"claimed_at": millis(row.claimed), "done_at": millis(row.done)})
			}

			got, err := p.once(ctx)
			if err != nil {
				t.Fatalf("prune: %v", err)
			}
			t.Logf("pruned: %+v", got)
			for table, want := range map[string]int{
				"outbox_messages":  1 + 3, // the fresh relayed one and the old unrelayed ones
				"idempotency_keys": 1,
				"webhook_events":   2, // the fresh processed one and the unprocessed one
				"consumed_events":  2, // the fresh handled one and the one still being handled
			} {
				if n := f.count(ctx, table); n != want {
					t.Errorf("%s: %d rows left; want %d", table, n, want)
				}
			}
			again, err := p.once(ctx)
			for _, pr := range again {
				if pr.deleted != 0 || err != nil {
					t.Errorf("a second pass deleted %+v (%v); want nothing", again, err)
				}
			}
		})
	}
}

type pruneFixture struct {
	t *testing.T
	d *database
}

func (f *pruneFixture) insert(ctx context.Context, table string, row map[string]any) {
	f.t.Helper()
	if _, err := f.d.DB.NewInsert().Model(&row).TableExpr(table).Exec(ctx); err != nil {
		f.t.Fatalf("insert into %s: %v", table, err)
	}
}

func (f *pruneFixture) count(ctx context.Context, table string) int {
	f.t.Helper()
	var n int
	if err := f.d.DB.NewSelect().TableExpr(table).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// outbox commits relayed+unrelayed events, one per transaction, marks the first relayed ones as
// relayed by the relay group, and makes every row but the last relayed one old.
func (f *pruneFixture) outbox(ctx context.Context, open outbox.Opener, relayed, unrelayed int) {
	f.t.Helper()
	for i := range relayed + unrelayed {
		tx, err := f.d.DB.DB.BeginTx(ctx, nil)
		if err != nil {
			f.t.Fatal(err)
		}
		ob, err := open(ctx, tx)
		if err == nil {
			err = ob.Publish(ctx, app.Event{ID: fmt.Sprint("prune-", i), Type: events.TopicOrderShipped, OccurredAt: time.Now(), OrderID: "o"})
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			_ = tx.Rollback()
			f.t.Fatalf("write outbox row: %v", err)
		}
	}
	var marks []string
	switch f.d.Dialect {
	case sqlstore.Postgres:
		marks = []string{fmt.Sprintf(`INSERT INTO outbox_offsets (consumer_group, offset_acked, last_processed_transaction_id)
			SELECT 'wolfix_relay', "offset", transaction_id FROM outbox_messages ORDER BY transaction_id, "offset" OFFSET %d LIMIT 1`, relayed-1),
			fmt.Sprintf(`UPDATE outbox_messages SET created_at = created_at - INTERVAL '200 days' WHERE "offset" NOT IN (
			SELECT "offset" FROM outbox_messages ORDER BY transaction_id, "offset" OFFSET %d LIMIT 1)`, relayed-1)}
	default:
		marks = []string{fmt.Sprintf(`INSERT INTO outbox_offsets (consumer_group, offset_acked)
			SELECT 'wolfix_relay', "offset" FROM outbox_messages ORDER BY "offset" LIMIT 1 OFFSET %d`, relayed-1),
			fmt.Sprintf(`UPDATE outbox_messages SET created_at = datetime(created_at, '-200 days') WHERE "offset" NOT IN (
			SELECT "offset" FROM outbox_messages ORDER BY "offset" LIMIT 1 OFFSET %d)`, relayed-1)}
	}
	for _, q := range marks {
		if _, err := f.d.DB.DB.ExecContext(ctx, q); err != nil {
			f.t.Fatalf("%s: %v", q, err)
		}
	}
}

// millis is a consumed_events time (Unix ms), or nil.
func millis(at any) any {
	if t, ok := at.(time.Time); ok {
		return t.UnixMilli()
	}
	return nil
}

// TestCLIPrune runs `wolfix prune` on a fresh database: it migrates, deletes nothing, and prints
// one line per kind of row.
func TestCLIPrune(t *testing.T) {
	out, code := runWolfix(t, []string{"WOLFIX_DATA_DIR=" + t.TempDir()}, "prune")
	if code != 0 {
		t.Fatalf("wolfix prune exited %d:\n%s", code, out)
	}
	for _, want := range []string{"relayed outbox rows", "expired idempotency keys", "processed webhook inbox rows", "consumed-event rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("wolfix prune output lacks %q:\n%s", want, out)
		}
	}
}
