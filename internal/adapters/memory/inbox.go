package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/wolfix/orders/internal/app"
)

type inbox repos

func (r inbox) Record(ctx context.Context, e app.InboxEntry) (fresh bool, err error) {
	err = r.run(ctx, func(st *state) error {
		if _, seen := st.inbox[e.Event.ID]; !seen {
			st.inbox[e.Event.ID] = app.InboxEntry{Event: e.Event, ReceivedAt: e.ReceivedAt, LockedUntil: e.LockedUntil}
			fresh = true
		}
		return nil
	})
	return fresh, err
}

func (r inbox) Claim(ctx context.Context, eventID string, at time.Time) (won bool, err error) {
	err = r.run(ctx, func(st *state) error {
		e, ok := st.inbox[eventID]
		if !ok || !e.ProcessedAt.IsZero() {
			return nil
		}
		e.ProcessedAt, e.Problem, e.LockedUntil = at, "", time.Time{}
		st.inbox[eventID] = e
		won = true
		return nil
	})
	return won, err
}

func (r inbox) Lease(ctx context.Context, now, until time.Time, limit int) (leased []app.InboxEntry, err error) {
	err = r.run(ctx, func(st *state) error {
		for _, e := range st.entries() {
			if len(leased) < limit && e.ProcessedAt.IsZero() && !e.LockedUntil.After(now) {
				e.LockedUntil = until
				st.inbox[e.Event.ID] = e
				leased = append(leased, e)
			}
		}
		return nil
	})
	return leased, err
}

func (r inbox) Fail(ctx context.Context, eventID, problem string, retryAt time.Time) error {
	return r.run(ctx, func(st *state) error {
		e, ok := st.inbox[eventID]
		if !ok {
			return app.ErrInboxEventNotFound
		}
		e.Problem, e.Attempts, e.LockedUntil = problem, e.Attempts+1, retryAt
		st.inbox[eventID] = e
		return nil
	})
}

func (r inbox) List(ctx context.Context, q app.InboxQuery) (out []app.InboxEntry, next string, err error) {
	err = r.run(ctx, func(st *state) error {
		var matching []app.InboxEntry
		for _, e := range st.entries() {
			if q.Status == "" || e.Status() == q.Status {
				matching = append(matching, e)
			}
		}
		out, next, err = page(matching, receivedAt, false, q.After, q.Limit)
		return err
	})
	return out, next, err
}

func (r inbox) Get(ctx context.Context, eventID string) (e app.InboxEntry, err error) {
	err = r.run(ctx, func(st *state) error {
		var ok bool
		if e, ok = st.inbox[eventID]; !ok {
			return app.ErrInboxEventNotFound
		}
		return nil
	})
	return e, err
}

// entries returns the inbox, oldest first.
func (st *state) entries() []app.InboxEntry {
	out := make([]app.InboxEntry, 0, len(st.inbox))
	for _, e := range st.inbox {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b app.InboxEntry) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.Event.ID, b.Event.ID))
	})
	return out
}

func receivedAt(e app.InboxEntry) position { return position{at: e.ReceivedAt, id: e.Event.ID} }
