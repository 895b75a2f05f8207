package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

type webhookEventRow struct {
	bun.BaseModel `bun:"table:webhook_events,alias:we"`

	EventID     string    `bun:"event_id,pk"`
	Type        string    `bun:"type"`
	Provider    string    `bun:"provider"`
	IntentID    string    `bun:"intent_id"`
	APIVersion  string    `bun:"api_version"`
	Payload     []byte    `bun:"payload"`
	ReceivedAt  time.Time `bun:"received_at"`
	ProcessedAt time.Time `bun:"processed_at,nullzero"`
	Problem     string    `bun:"problem"`
	Attempts    int       `bun:"attempts"`
	LockedUntil time.Time `bun:"locked_until,nullzero"`
}

// webhookInbox is app.WebhookInbox: the provider's event id is the primary key, so the database
// decides which of several concurrent deliveries of one event is the first; locked_until is the
// lease of the worker processing an event (or a failed event's retry time).
type webhookInbox struct{ repos }

func (w webhookInbox) Record(ctx context.Context, e app.InboxEntry) (bool, error) {
	ev := e.Event
	row := &webhookEventRow{EventID: ev.ID, Type: string(ev.Type), Provider: ev.Provider, IntentID: ev.IntentID,
		APIVersion: ev.APIVersion, Payload: ev.Payload, ReceivedAt: e.ReceivedAt.UTC(), LockedUntil: e.LockedUntil.UTC()}
	if row.Payload == nil {
		row.Payload = []byte{} // the column is NOT NULL; an empty body is still a body
	}
	inserted, err := insertIfAbsent(ctx, w.db, row, "event_id")
	if err != nil {
		return false, fmt.Errorf("record webhook event %s: %w", ev.ID, err)
	}
	return inserted, nil
}

// claimQuery is Claim's UPDATE on Postgres, with $n arguments: prepared once per connection, and as
// the transaction's first statement it travels with the BEGIN (oneTripConn).
const claimQuery = `UPDATE webhook_events SET processed_at = $1, problem = '', locked_until = NULL
 WHERE event_id = $2 AND processed_at IS NULL`

// Claim marks the event processed unless it already is; the conditional UPDATE makes concurrent
// claims queue on the row, and only the first finds it unprocessed.
func (w webhookInbox) Claim(ctx context.Context, eventID string, at time.Time) (bool, error) {
	var res sql.Result
	var err error
	if w.dialect == Postgres {
		res, err = rawExec(ctx, w.db, claimQuery, at.UTC(), eventID)
	} else {
		res, err = w.db.NewUpdate().Model((*webhookEventRow)(nil)).
			Set("processed_at = ?", at.UTC()).Set("problem = ''").Set("locked_until = NULL").
			Where("event_id = ?", eventID).Where("processed_at IS NULL").Exec(ctx)
	}
	if err != nil {
		return false, fmt.Errorf("claim webhook event %s: %w", eventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim webhook event %s: %w", eventID, err)
	}
	return n == 1, nil
}

// Lease is one UPDATE … RETURNING over the due events: on Postgres the inner SELECT … FOR UPDATE
// SKIP LOCKED lets concurrent leases pass each other's rows instead of taking them twice, on SQLite
// the statement holds the only write lock.
func (w webhookInbox) Lease(ctx context.Context, now, until time.Time, limit int) ([]app.InboxEntry, error) {
	due := w.db.NewSelect().Model((*webhookEventRow)(nil)).Column("we.event_id").
		Where("we.processed_at IS NULL").Where("we.locked_until IS NULL OR we.locked_until <= ?", now.UTC()).
		Order("we.received_at", "we.event_id").Limit(int64(limit))
	if w.dialect == Postgres {
		due = due.For("UPDATE SKIP LOCKED")
	}
	var rows []*webhookEventRow
	err := w.db.NewUpdate().Model((*webhookEventRow)(nil)).Set("locked_until = ?", until.UTC()).
		Where("event_id IN (?)", due).Returning("*").Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lease webhook events: %w", err)
	}
	slices.SortFunc(rows, func(a, b *webhookEventRow) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.EventID, b.EventID))
	})
	return entries(rows), nil
}

// Fail notes the problem, counts the attempt and sets when the event is due again.
func (w webhookInbox) Fail(ctx context.Context, eventID string, problem string, retryAt time.Time) error {
	res, err := w.db.NewUpdate().Model((*webhookEventRow)(nil)).
		Set("problem = ?", problem).Set("attempts = attempts + 1").Set("locked_until = ?", retryAt.UTC()).
		Where("event_id = ?", eventID).Exec(ctx)
	if err == nil {
		err = requireOneRow(res, app.ErrInboxEventNotFound)
	}
	if err != nil {
		return fmt.Errorf("note failure of webhook event %s: %w", eventID, err)
	}
	return nil
}

func (w webhookInbox) List(ctx context.Context, q app.InboxQuery) ([]app.InboxEntry, string, error) {
	limit := pageSize(q.Limit)
	var rows []*webhookEventRow
	sel := w.db.NewSelect().Model(&rows).Order("we.received_at", "we.event_id").Limit(int64(limit) + 1)
	switch q.Status {
	case app.InboxPending:
		sel = sel.Where("we.processed_at IS NULL").Where("we.problem = ''")
	case app.InboxFailed:
		sel = sel.Where("we.processed_at IS NULL").Where("we.problem <> ''")
	case app.InboxProcessed:
		sel = sel.Where("we.processed_at IS NOT NULL")
	}
	if q.After != "" {
		receivedAt, id, err := parseOrderCursor(q.After) // the same (time, id) key as orders, ascending
		if err != nil {
			return nil, "", err
		}
		sel = sel.Where("(we.received_at, we.event_id) > (?, ?)", receivedAt, id)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list webhook events: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = orderCursor(rows[limit-1].ReceivedAt, rows[limit-1].EventID)
	}
	return entries(rows), next, nil
}

func (w webhookInbox) Get(ctx context.Context, eventID string) (app.InboxEntry, error) {
	row := new(webhookEventRow)
	if err := w.db.NewSelect().Model(row).Where("we.event_id = ?", eventID).Scan(ctx); err != nil {
		return app.InboxEntry{}, fmt.Errorf("get webhook event %s: %w", eventID, notFound(err, app.ErrInboxEventNotFound))
	}
	return row.toEntry(), nil
}

func entries(rows []*webhookEventRow) []app.InboxEntry {
	out := make([]app.InboxEntry, 0, len(rows))
	for _, row := range rows {
		out = append(out, row.toEntry())
	}
	return out
}

func (r *webhookEventRow) toEntry() app.InboxEntry {
	return app.InboxEntry{Event: payment.Event{ID: r.EventID, Type: payment.EventType(r.Type), Provider: r.Provider,
		IntentID: r.IntentID, APIVersion: r.APIVersion, Payload: r.Payload},
		ReceivedAt: r.ReceivedAt.UTC(), ProcessedAt: r.ProcessedAt.UTC(), Problem: r.Problem, Attempts: r.Attempts,
		LockedUntil: r.LockedUntil.UTC()}
}

// insertIfAbsent inserts row (a pointer to a bun model) with ON CONFLICT (key) DO NOTHING and
// reports whether it inserted; on Postgres as a bound insert (insertBoundOn), prepared once per
// connection. It must not be held for a COMMIT: its count is the answer.
func insertIfAbsent(ctx context.Context, db bun.IDB, row any, key string) (bool, error) {
	conflict := "CONFLICT (" + key + ") DO NOTHING"
	var res sql.Result
	var err error
	if db.Dialect().Name() == dialect.PG {
		res, err = insertBoundOn(ctx, db, row, conflict)
	} else {
		res, err = db.NewInsert().Model(row).On(conflict).Exec(ctx)
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// requireOneRow returns missing unless the statement changed exactly one row.
func requireOneRow(res sql.Result, missing error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return missing
	}
	return nil
}
