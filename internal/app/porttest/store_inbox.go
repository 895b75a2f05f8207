package porttest

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

func (s storeSuite) inbox(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	inbox := store.Webhooks()

	t.Run("Record, Claim and Fail keep each event's state", func(t *testing.T) {
		ev := payment.Event{ID: "evt_1", Type: payment.EventIntentPaymentFailed, IntentID: "pi_1",
			APIVersion: "2023-10-16", Payload: []byte(`{"id":"evt_1"}`)}
		failing := payment.Event{ID: "evt_2", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		waiting := payment.Event{ID: "evt_3", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		for _, e := range []payment.Event{ev, failing, waiting} {
			for i, want := range []bool{true, false} {
				if fresh, err := inbox.Record(ctx, app.InboxEntry{Event: e, ReceivedAt: t0}); err != nil || fresh != want {
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

	t.Run("List pages oldest first", func(t *testing.T) {
		all := recordEvents(t, inbox, "evt_page", 5)
		seen := eventIDs(allPages(t, 2, func(after string) ([]app.InboxEntry, string, error) {
			return inbox.List(ctx, app.InboxQuery{Status: app.InboxPending, After: after, Limit: 2})
		}))
		if want := slices.Concat([]string{"evt_3"}, all); !slices.Equal(seen, want) {
			t.Errorf("pages of 2 listed %v; want %v", seen, want)
		}
	})
}

func (s storeSuite) inboxRaces(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	inbox := store.Webhooks()

	t.Run("concurrent leases take every due event once, oldest first", func(t *testing.T) {
		all := recordEvents(t, inbox, "evt_lease", 40)
		if _, err := inbox.Claim(ctx, all[0], t0); err != nil {
			t.Fatal(err)
		}
		now, until := t0.Add(time.Second), t0.Add(time.Minute)
		leased := make([][]string, 4)
		errs := Parallel(len(leased), func(i int) error {
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
		if err != nil || !slices.Equal(eventIDs(got), all[2:]) || !got[0].LockedUntil.Equal(until.Add(time.Minute)) {
			t.Errorf("lease once the leases ran out: %v, %v; want %v, held until the new lease's end: neither processed nor waiting to retry, oldest first",
				eventIDs(got), err, all[2:])
		}
	})

	t.Run("concurrent deliveries of one event: exactly one is new", func(t *testing.T) {
		ev := payment.Event{ID: "evt_dup", Type: payment.EventIntentSucceeded, IntentID: "pi_1", Payload: []byte(`{}`)}
		fresh := howManyTrue(t, inTx(store, func(ctx context.Context, tx app.StoreTx) (bool, error) {
			return tx.Webhooks().Record(ctx, app.InboxEntry{Event: ev, ReceivedAt: t0})
		}))
		if fresh != 1 {
			t.Errorf("%d deliveries were new; want 1", fresh)
		}
	})

	t.Run("concurrent claims of one event: exactly one wins", func(t *testing.T) {
		ev := payment.Event{ID: "evt_claim", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		if _, err := inbox.Record(ctx, app.InboxEntry{Event: ev, ReceivedAt: t0}); err != nil {
			t.Fatalf("Record: %v", err)
		}
		won := howManyTrue(t, inTx(store, func(ctx context.Context, tx app.StoreTx) (bool, error) {
			return tx.Webhooks().Claim(ctx, ev.ID, t0)
		}))
		if won != 1 {
			t.Errorf("%d claims won; want 1", won)
		}
	})

	t.Run("a claim rolled back with its effect leaves the event unprocessed", func(t *testing.T) {
		ev := payment.Event{ID: "evt_rollback", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		if _, err := inbox.Record(ctx, app.InboxEntry{Event: ev, ReceivedAt: t0}); err != nil {
			t.Fatalf("Record: %v", err)
		}
		err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
			if won, err := tx.Webhooks().Claim(ctx, ev.ID, t0); err != nil || !won {
				return errors.Join(err, errors.New("the claim did not win"))
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v; want errBoom", err)
		}
		if got, err := inbox.Get(ctx, ev.ID); err != nil || got.Status() != app.InboxPending {
			t.Errorf("after the rollback the event is %q, %v; want pending", got.Status(), err)
		}
	})

	t.Run("an event recorded leased is due only once its lease runs out", func(t *testing.T) {
		ev := payment.Event{ID: "evt_handed_over", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		until := t0.Add(time.Minute)
		if fresh, err := inbox.Record(ctx, app.InboxEntry{Event: ev, ReceivedAt: t0, LockedUntil: until}); err != nil || !fresh {
			t.Fatalf("Record leased = %v, %v; want a new event", fresh, err)
		}
		if got, err := inbox.Get(ctx, ev.ID); err != nil || !got.LockedUntil.Equal(until) || got.Status() != app.InboxPending {
			t.Errorf("recorded leased: %+v, %v; want pending, locked until %v", got, err, until)
		}
		leased := func(now time.Time) bool {
			t.Helper()
			got, err := inbox.Lease(ctx, now, now.Add(time.Minute), 100)
			if err != nil {
				t.Fatalf("Lease: %v", err)
			}
			return slices.Contains(eventIDs(got), ev.ID)
		}
		if leased(until.Add(-time.Second)) {
			t.Error("another lease took the event while the recorder held it")
		}
		if !leased(until) {
			t.Error("the event was not due once the recorder's lease ran out")
		}
	})
}

// recordEvents records n events received a millisecond apart after t0 and returns their ids in order.
func recordEvents(t *testing.T, inbox app.WebhookInbox, prefix string, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s_%03d", prefix, i)
		ev := payment.Event{ID: out[i], Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
		if _, err := inbox.Record(context.Background(), app.InboxEntry{Event: ev, ReceivedAt: t0.Add(time.Duration(i+1) * time.Millisecond)}); err != nil {
			t.Fatalf("Record %s: %v", out[i], err)
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
