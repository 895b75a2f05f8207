package sqlstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestWebhookInbox_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		inbox := tdb.store.Webhooks()
		ev := payment.Event{ID: "evt_1", Type: payment.EventIntentPaymentFailed, IntentID: "pi_1",
			APIVersion: "2023-10-16", Payload: []byte(`{"id":"evt_1"}`)}

		for i, want := range []bool{true, false} {
			if fresh, err := inbox.Record(ctx, ev, t0); err != nil || fresh != want {
				t.Fatalf("delivery %d: Record = %v, %v; want %v", i+1, fresh, err, want)
			}
		}
		processed := t0.Add(time.Second)
		if err := inbox.MarkProcessed(ctx, ev.ID, "card_declined", processed); err != nil {
			t.Fatalf("MarkProcessed: %v", err)
		}
		got := new(webhookEventRow)
		if err := tdb.db.NewSelect().Model(got).Where("event_id = ?", ev.ID).Scan(ctx); err != nil {
			t.Fatalf("read event: %v", err)
		}
		got.ReceivedAt, got.ProcessedAt = got.ReceivedAt.UTC(), got.ProcessedAt.UTC()
		want := &webhookEventRow{EventID: ev.ID, Type: string(ev.Type), IntentID: ev.IntentID,
			APIVersion: ev.APIVersion, Payload: ev.Payload, ReceivedAt: t0, ProcessedAt: processed, Problem: "card_declined"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stored %+v; want %+v", got, want)
		}
		if err := inbox.MarkProcessed(ctx, "evt_unknown", "", processed); err == nil {
			t.Error("MarkProcessed of an unknown event succeeded")
		}
	})
}

func TestIdempotencyStore_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		keys := tdb.store.Idempotency()
		begin := func(key, hash string) (app.IdempotencyRecord, bool) {
			t.Helper()
			rec, claimed, err := keys.Begin(ctx, "POST /api/orders", key, hash, t0)
			if err != nil {
				t.Fatalf("Begin(%s): %v", key, err)
			}
			return rec, claimed
		}
		steps := []struct {
			name        string
			do          func()
			key, hash   string
			want        app.IdempotencyRecord
			wantClaimed bool
		}{
			{"the first request claims the key", nil, "k1", "h1", app.IdempotencyRecord{RequestHash: "h1"}, true},
			{"a retry while it runs sees the claim", nil, "k1", "h1", app.IdempotencyRecord{RequestHash: "h1"}, false},
			{"another body sees the first body's hash", nil, "k1", "h2", app.IdempotencyRecord{RequestHash: "h1"}, false},
			{"a replay after completion gets the response", func() {
				if err := keys.Complete(ctx, "POST /api/orders", "k1", 201, []byte(`{"orderId":"o1"}`)); err != nil {
					t.Fatalf("Complete: %v", err)
				}
			}, "k1", "h1", app.IdempotencyRecord{RequestHash: "h1", Done: true, Status: 201, Body: []byte(`{"orderId":"o1"}`)}, false},
			{"abandoning a completed key keeps it", func() {
				if err := keys.Abandon(ctx, "POST /api/orders", "k1"); err != nil {
					t.Fatalf("Abandon: %v", err)
				}
			}, "k1", "h1", app.IdempotencyRecord{RequestHash: "h1", Done: true, Status: 201, Body: []byte(`{"orderId":"o1"}`)}, false},
			{"an abandoned claim can be claimed again", func() {
				begin("k2", "h1")
				if err := keys.Abandon(ctx, "POST /api/orders", "k2"); err != nil {
					t.Fatalf("Abandon: %v", err)
				}
			}, "k2", "h3", app.IdempotencyRecord{RequestHash: "h3"}, true},
		}
		for _, s := range steps {
			if s.do != nil {
				s.do()
			}
			rec, claimed := begin(s.key, s.hash)
			if !reflect.DeepEqual(rec, s.want) || claimed != s.wantClaimed {
				t.Errorf("%s: got %+v, claimed=%v; want %+v, claimed=%v", s.name, rec, claimed, s.want, s.wantClaimed)
			}
		}
		if err := keys.Complete(ctx, "POST /api/orders", "never-claimed", 200, nil); err == nil {
			t.Error("Complete of an unclaimed key succeeded")
		}
	})
}
