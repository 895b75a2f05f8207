package sqlstore

import (
	"context"
	"errors"
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
		failing := payment.Event{ID: "evt_2", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		for _, e := range []payment.Event{ev, failing} {
			for i, want := range []bool{true, false} {
				if fresh, err := inbox.Record(ctx, e, t0); err != nil || fresh != want {
					t.Fatalf("%s delivery %d: Record = %v, %v; want %v", e.ID, i+1, fresh, err, want)
				}
			}
		}

		processed := t0.Add(time.Second)
		for i, want := range []bool{true, false} {
			if won, err := inbox.Claim(ctx, ev.ID, processed); err != nil || won != want {
				t.Fatalf("claim %d = %v, %v; want %v", i+1, won, err, want)
			}
		}
		for range 2 {
			if err := inbox.Fail(ctx, failing.ID, "order is locked", processed); err != nil {
				t.Fatalf("Fail: %v", err)
			}
		}

		entries := []struct {
			id   string
			want app.InboxEntry
		}{
			{ev.ID, app.InboxEntry{Event: ev, ReceivedAt: t0, ProcessedAt: processed}},
			{failing.ID, app.InboxEntry{Event: failing, ReceivedAt: t0, Problem: "order is locked", Attempts: 2}},
		}
		for _, e := range entries {
			if got, err := inbox.Get(ctx, e.id); err != nil || !reflect.DeepEqual(got, e.want) {
				t.Errorf("Get(%s) = %+v, %v; want %+v", e.id, got, err, e.want)
			}
		}
		if failed, err := inbox.ListFailed(ctx, 10); err != nil || !reflect.DeepEqual(failed, []app.InboxEntry{entries[1].want}) {
			t.Errorf("ListFailed = %+v, %v; want only %s", failed, err, failing.ID)
		}
		if _, err := inbox.Get(ctx, "evt_unknown"); !errors.Is(err, app.ErrInboxEventNotFound) {
			t.Errorf("Get of an unknown event: got %v; want ErrInboxEventNotFound", err)
		}
		if err := inbox.Fail(ctx, "evt_unknown", "x", processed); !errors.Is(err, app.ErrInboxEventNotFound) {
			t.Errorf("Fail of an unknown event: got %v; want ErrInboxEventNotFound", err)
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
