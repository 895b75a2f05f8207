package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		waiting := payment.Event{ID: "evt_3", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		for _, e := range []payment.Event{ev, failing, waiting} {
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
		retryAt := t0.Add(time.Minute)
		for range 2 {
			if err := inbox.Fail(ctx, failing.ID, "order is locked", retryAt); err != nil {
				t.Fatalf("Fail: %v", err)
			}
		}

		want := map[string]app.InboxEntry{
			ev.ID:      {Event: ev, ReceivedAt: t0, ProcessedAt: processed},
			failing.ID: {Event: failing, ReceivedAt: t0, Problem: "order is locked", Attempts: 2, LockedUntil: retryAt},
			waiting.ID: {Event: waiting, ReceivedAt: t0},
		}
		for id, w := range want {
			if got, err := inbox.Get(ctx, id); err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("Get(%s) = %+v, %v; want %+v", id, got, err, w)
			}
		}
		for status, ids := range map[app.InboxStatus][]string{app.InboxProcessed: {ev.ID}, app.InboxFailed: {failing.ID},
			app.InboxPending: {waiting.ID}, "": {ev.ID, failing.ID, waiting.ID}} {
			got, next, err := inbox.List(ctx, app.InboxQuery{Status: status, Limit: 10})
			if err != nil || !slices.Equal(eventIDs(got), ids) || next != "" {
				t.Errorf("List(%q) = %v, next %q, %v; want %v", status, eventIDs(got), next, err, ids)
			}
		}
		if _, err := inbox.Get(ctx, "evt_unknown"); !errors.Is(err, app.ErrInboxEventNotFound) {
			t.Errorf("Get of an unknown event: got %v; want ErrInboxEventNotFound", err)
		}
		if err := inbox.Fail(ctx, "evt_unknown", "x", processed); !errors.Is(err, app.ErrInboxEventNotFound) {
			t.Errorf("Fail of an unknown event: got %v; want ErrInboxEventNotFound", err)
		}
	})
}

func TestWebhookInboxPages_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		all := recordEvents(t, tdb, 5)
		var seen []string
		for after := ""; ; {
			page, next, err := tdb.store.Webhooks().List(ctx, app.InboxQuery{After: after, Limit: 2})
			if err != nil {
				t.Fatalf("List after %q: %v", after, err)
			}
			seen = append(seen, eventIDs(page)...)
			if next == "" {
				break
			}
			after = next
		}
		if !slices.Equal(seen, all) {
			t.Errorf("pages of 2 listed %v; want %v", seen, all)
		}
	})
}

func TestWebhookInboxLease_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		inbox := tdb.store.Webhooks()
		all := recordEvents(t, tdb, 40)
		if _, err := inbox.Claim(ctx, all[0], t0); err != nil {
			t.Fatal(err)
		}
		now, until := t0.Add(time.Second), t0.Add(time.Minute)

		// Four workers lease at once: together they take every unprocessed event, none twice.
		leased := make([][]string, 4)
		errs := parallel(len(leased), func(i int) error {
			for {
				got, err := inbox.Lease(ctx, now, until, 3)
				if err != nil || len(got) == 0 {
					return err
				}
				leased[i] = append(leased[i], eventIDs(got)...)
			}
		})
		assertNoErrors(t, errs)
		union := slices.Concat(leased...)
		slices.Sort(union)
		if !slices.Equal(union, all[1:]) {
			t.Fatalf("leased %d events (%v); want each of the %d unprocessed once", len(union), union, len(all)-1)
		}
		if got, _ := inbox.Lease(ctx, until.Add(-time.Second), until.Add(time.Minute), 100); len(got) != 0 {
			t.Errorf("a lease before the others ran out took %v", eventIDs(got))
		}
		if err := inbox.Fail(ctx, all[1], "provider down", until.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := inbox.Lease(ctx, until, until.Add(time.Minute), 100)
		if err != nil || len(got) != len(all)-2 || got[0].Event.ID != all[2] || !got[0].LockedUntil.Equal(until.Add(time.Minute)) {
			t.Errorf("lease once the leases ran out: %d events from %v, %v; want the %d neither processed nor waiting to retry, oldest first",
				len(got), eventIDs(got)[:min(1, len(got))], err, len(all)-2)
		}
	})
}

// recordEvents records n events received a millisecond apart and returns their ids in order.
func recordEvents(t *testing.T, tdb *testDB, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("evt_%03d", i)
		ev := payment.Event{ID: out[i], Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		if _, err := tdb.store.Webhooks().Record(context.Background(), ev, t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatalf("record %s: %v", out[i], err)
		}
	}
	return out
}

func eventIDs(entries []app.InboxEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Event.ID)
	}
	return out
}

func TestIdempotencyStore_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		keys := tdb.store.Idempotency()
		const scope, lease = "customer-1 POST /api/orders", 5 * time.Second
		claim := func(key, hash string, at time.Time) app.IdempotencyRecord {
			t.Helper()
			rec, err := keys.Claim(ctx, app.IdempotencyRequest{Scope: scope, Key: key, RequestHash: hash, Now: at,
				Lease: lease, ExpiresAt: at.Add(24 * time.Hour)})
			if err != nil {
				t.Fatalf("Claim(%s): %v", key, err)
			}
			return rec
		}
		answer := app.Answer{Status: 201, Body: []byte(`{"orderId":"o1"}`)}

		first := claim("k1", "h1", t0)
		if !first.Claimed || first.Token != 1 || !first.ClaimedAt.Equal(t0) || !first.LockedUntil.Equal(t0.Add(lease)) {
			t.Fatalf("first claim = %+v; want claimed, token 1, locked for the lease", first)
		}
		if rec := claim("k1", "h1", t0.Add(time.Second)); rec.Claimed || rec.Done || !rec.LockedUntil.Equal(t0.Add(lease)) {
			t.Errorf("a retry during the lease = %+v; want the live claim", rec)
		}
		if rec := claim("k1", "h2", t0.Add(time.Hour)); rec.Claimed || rec.RequestHash != "h1" {
			t.Errorf("another body after the lease = %+v; want the first body's hash, not a takeover", rec)
		}
		second := claim("k1", "h1", t0.Add(lease+time.Second))
		if !second.Claimed || second.Token != 2 || !second.ClaimedAt.Equal(t0) {
			t.Fatalf("a retry after the lease = %+v; want a takeover with token 2, the first claim's time", second)
		}
		if err := keys.Keep(ctx, scope, "k1", first.Token, answer); !errors.Is(err, app.ErrIdempotencyClaimLost) {
			t.Errorf("Keep by the overtaken claim: %v; want ErrIdempotencyClaimLost", err)
		}
		if err := keys.Hold(ctx, scope, "k1", first.Token); !errors.Is(err, app.ErrIdempotencyClaimLost) {
			t.Errorf("Hold by the overtaken claim: %v; want ErrIdempotencyClaimLost", err)
		}
		if err := keys.Release(ctx, scope, "k1", first.Token); err != nil {
			t.Fatalf("Release by the overtaken claim: %v", err)
		}
		if err := keys.Keep(ctx, scope, "k1", second.Token, answer); err != nil {
			t.Fatalf("Keep by the claim that holds the key: %v", err)
		}
		if err := keys.Release(ctx, scope, "k1", second.Token); err != nil {
			t.Fatalf("Release of a kept answer: %v", err)
		}
		replayed := claim("k1", "h1", t0.Add(time.Hour))
		if replayed.Claimed || !replayed.Done || !reflect.DeepEqual(replayed.Answer, answer) {
			t.Errorf("a retry after the answer = %+v; want the kept answer", replayed)
		}

		released := claim("k2", "h1", t0)
		if err := keys.Release(ctx, scope, "k2", released.Token); err != nil {
			t.Fatal(err)
		}
		if rec := claim("k2", "h3", t0); !rec.Claimed || rec.Token != 1 {
			t.Errorf("a released key = %+v; want a fresh claim", rec)
		}

		// A claim left in progress before claims had leases (no locked_until) is not held forever.
		legacy := &idempotencyRow{Scope: scope, Key: "k-legacy", RequestHash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		if _, err := tdb.db.NewInsert().Model(legacy).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if rec := claim("k-legacy", "h1", t0); !rec.Claimed || rec.Token != 1 {
			t.Errorf("a retry of a claim without a lease = %+v; want a takeover", rec)
		}

		// Pruning: every key expires a day after its first claim; batches delete the oldest first.
		for i := range 5 {
			claim(fmt.Sprintf("old-%d", i), "h", t0.Add(-48*time.Hour+time.Duration(i)*time.Minute))
		}
		for _, want := range []int{2, 2, 1, 0} {
			if n, err := keys.PruneExpired(ctx, t0.Add(-time.Hour), 2); err != nil || n != want {
				t.Fatalf("PruneExpired = %d, %v; want %d", n, err, want)
			}
		}
		if rec := claim("k1", "h1", t0.Add(time.Hour)); !rec.Done {
			t.Errorf("pruning took a key that has not expired: %+v", rec)
		}
	})
}
