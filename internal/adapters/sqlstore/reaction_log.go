package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// reactionClaimLease is how long a claim keeps other deliveries of an event away; a claim older
// than that belonged to a consumer that died, and is taken over.
const reactionClaimLease = time.Minute

// doneFlushDelay is how long an event's "done" mark may wait for the next claims' write before
// it is written on its own.
const doneFlushDelay = 20 * time.Millisecond

// doneFlushTimeout bounds a write of "done" marks on their own; doneFlushRetry is the pause
// before the next one when it failed.
const (
	doneFlushTimeout = 10 * time.Second
	doneFlushRetry   = time.Second
)

// ReactionLog is app.ReactionLog in the table consumed_events.
//
// Claims that arrive together (the in-process broker's lanes deliver 64 events at once) are
// written together: one INSERT for all of them (claimBatch). The "done" mark of a handled event
// is not written on its own: the marks pending are written in one statement just before the next
// claims (or alone after doneFlushDelay, or on Flush). So the happy path costs a share of a claim
// statement and a share of a mark statement per event, where it was a transaction each. On
// SQLite the marks and the claims are one transaction, one take of the database's only write
// lock, which the API needs for every order; on PostgreSQL each is a statement on its own, with
// no BEGIN and COMMIT round trips, each waiting for a connection of the pool the API's requests
// share. A mark not written yet is applied before any claim, so a redelivery still finds its
// event done. A crash loses the marks not written yet: their events stay claimed, and a
// redelivery of one runs it again once the claim's lease has run out, as after a crash while it
// ran.
type ReactionLog struct {
	db      *sql.DB
	dialect Dialect
	now     func() time.Time
	// batch gathers concurrent claims into one statement.
	batch *claimBatch

	mu      sync.Mutex
	pending []doneMark
	timer   *time.Timer
}

var _ app.ReactionLog = (*ReactionLog)(nil)

type doneMark struct{ consumer, eventID string }

// marksPerStatement bounds the marks one UPDATE writes (two parameters each).
const marksPerStatement = 500

// NewReactionLog returns the reaction log in db.
func NewReactionLog(db *sql.DB, dialect Dialect) (*ReactionLog, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("sqlstore: reaction log: unknown dialect %q", dialect)
	}
	l := &ReactionLog{db: db, dialect: dialect, now: time.Now}
	l.batch = &claimBatch{log: l}
	return l, nil
}

// Claim claims the event with the claims that arrive with it, after writing the pending "done"
// marks (claimBatch). It waits for its batch even when ctx ends (see claimBatch.claim).
func (l *ReactionLog) Claim(_ context.Context, consumer, eventID string) (app.ReactionClaim, error) {
	return l.batch.claim(consumer, eventID)
}

// Release deletes the claim of an event not yet done.
func (l *ReactionLog) Release(ctx context.Context, consumer, eventID string) error {
	return l.write(ctx, func(tx execer) error {
		_, err := l.exec(ctx, tx, `DELETE FROM consumed_events WHERE consumer = ? AND event_id = ? AND done_at IS NULL`, consumer, eventID)
		return err
	})
}

// Done marks the event handled, with the log's next write.
func (l *ReactionLog) Done(_ context.Context, consumer, eventID string) error {
	l.deferMark(doneMark{consumer: consumer, eventID: eventID})
	return nil
}

// Flush writes the "done" marks not written yet.
func (l *ReactionLog) Flush(ctx context.Context) error {
	return l.write(ctx, nil)
}

// DeleteHandled deletes at most limit rows of events handled more than olderThan ago, in one
// short statement, and returns how many went. Keep them longer than the broker may redeliver an
// event; rows of events still being handled stay.
func (l *ReactionLog) DeleteHandled(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	res, err := l.db.ExecContext(ctx, l.rebind(`DELETE FROM consumed_events WHERE (consumer, event_id) IN (
		SELECT consumer, event_id FROM consumed_events WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)`),
		l.now().Add(-olderThan).UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune handled events: %w", err)
	}
	return res.RowsAffected()
}

func (l *ReactionLog) deferMark(mark doneMark) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, mark)
	if l.timer == nil {
		l.timer = time.AfterFunc(doneFlushDelay, l.flushLater)
	}
}

func (l *ReactionLog) flushLater() {
	l.mu.Lock()
	l.timer = nil
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), doneFlushTimeout)
	defer cancel()
	if err := l.Flush(ctx); err != nil {
		l.mu.Lock()
		if l.timer == nil { // the marks are back in pending; the next claim may write them first
			l.timer = time.AfterFunc(doneFlushRetry, l.flushLater)
		}
		l.mu.Unlock()
	}
}

// execer runs statements: the database, or a transaction of it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write writes the pending "done" marks, then runs fn (if any): in one transaction on SQLite (one
// take of the write lock), else each statement on its own (PostgreSQL: no BEGIN and COMMIT round
// trips). When it fails, the marks are pending again (writing a mark twice does no harm).
func (l *ReactionLog) write(ctx context.Context, fn func(db execer) error) (err error) {
	l.mu.Lock()
	marks := l.pending
	l.pending = nil
	l.mu.Unlock()
	defer func() {
		if err != nil && len(marks) > 0 {
			l.mu.Lock()
			l.pending = append(marks, l.pending...)
			l.mu.Unlock()
		}
	}()
	if len(marks) == 0 && fn == nil {
		return nil
	}
	if l.dialect != SQLite {
		return l.markAndRun(ctx, l.db, marks, fn)
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: reaction log: begin: %w", err)
	}
	if err := l.markAndRun(ctx, tx, marks, fn); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: reaction log: commit: %w", err)
	}
	return nil
}

func (l *ReactionLog) markAndRun(ctx context.Context, db execer, marks []doneMark, fn func(db execer) error) error {
	if err := l.markDone(ctx, db, marks); err != nil {
		return err
	}
	if fn == nil {
		return nil
	}
	return fn(db)
}

// markDone writes marks: on Postgres in one call of mark_events_done (see its migration), which
// looks each event up by its key; on SQLite up to marksPerStatement in each UPDATE (markDoneQuery).
func (l *ReactionLog) markDone(ctx context.Context, db execer, marks []doneMark) error {
	if len(marks) == 0 {
		return nil
	}
	now := l.now().UnixMilli()
	if l.dialect == Postgres {
		consumers, eventIDs := make([]string, len(marks)), make([]string, len(marks))
		for i, m := range marks {
			consumers[i], eventIDs[i] = m.consumer, m.eventID
		}
		_, err := l.exec(ctx, db, markEventsDoneCall, now, consumers, eventIDs)
		return err
	}
	for chunk := range slices.Chunk(marks, marksPerStatement) {
		args := make([]any, 0, 1+2*len(chunk))
		args = append(args, now)
		for _, m := range chunk {
			args = append(args, m.consumer, m.eventID)
		}
		if _, err := l.exec(ctx, db, markDoneQuery(len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}

// markEventsDoneCall calls the mark_events_done function: the time, the consumers and the events.
const markEventsDoneCall = "SELECT mark_events_done(?, ?::text[], ?::text[])"

// markDoneQuery sets done_at (the first parameter) on n events, each a (consumer, event_id) pair
// of parameters, joined on the whole primary key: SQLite looks each one up by it.
func markDoneQuery(n int) string {
	return `UPDATE consumed_events SET done_at = ? FROM (VALUES ` + placeholderRows(n, "(?, ?)") + `) AS marked
		WHERE consumed_events.consumer = marked.column1 AND consumed_events.event_id = marked.column2`
}

// claimTaken claims an event whose row exists: it takes over a claim whose lease ran out, else
// reports the event done or held.
func (l *ReactionLog) claimTaken(ctx context.Context, tx execer, consumer, eventID string) (app.ReactionClaim, error) {
	now := l.now().UnixMilli()
	n, err := l.exec(ctx, tx, `UPDATE consumed_events SET claimed_at = ? WHERE consumer = ? AND event_id = ? AND done_at IS NULL AND claimed_at < ?`,
		now, consumer, eventID, now-reactionClaimLease.Milliseconds())
	if err != nil || n == 1 {
		return app.ReactionClaimed, err
	}
	var doneAt sql.NullInt64
	err = tx.QueryRowContext(ctx, l.rebind(`SELECT done_at FROM consumed_events WHERE consumer = ? AND event_id = ?`), consumer, eventID).Scan(&doneAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return app.ReactionHeld, nil // released between the two statements: come back later
	case err != nil:
		return 0, fmt.Errorf("sqlstore: read claim of %s: %w", eventID, err)
	case doneAt.Valid:
		return app.ReactionDone, nil
	default:
		return app.ReactionHeld, nil
	}
}

func (l *ReactionLog) exec(ctx context.Context, tx execer, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, l.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: reaction log: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: reaction log: %w", err)
	}
	return n, nil
}

// placeholderRows is n copies of row, comma-separated: the rows of a multi-row VALUES or IN.
func placeholderRows(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// rebind writes a query's ? placeholders as the dialect wants them.
func (l *ReactionLog) rebind(query string) string {
	if l.dialect == Postgres {
		return dollarPlaceholders(query)
	}
	return query
}

// dollarPlaceholders turns ? placeholders into PostgreSQL's $1, $2, …
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
