package consumers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errInProgress says that another delivery of the event is being handled right now.
var errInProgress = errors.New("consumers: the event is being handled by another delivery")

// claimLease is how long a claim keeps other deliveries of an event away; a claim older than that
// belonged to a consumer that died, and is taken over.
const claimLease = time.Minute

// inProgressPause is how long a delivery that found its event claimed by another one waits
// before failing: the in-process broker offers a nacked event again at once, and each offer is a
// write transaction.
const inProgressPause = 50 * time.Millisecond

// doneFlushDelay is how long, on SQLite, an event's "done" mark may wait for the next claim's
// transaction before it is written on its own.
const doneFlushDelay = 20 * time.Millisecond

// doneFlushTimeout bounds a write of "done" marks on their own; doneFlushRetry is the pause
// before the next one when it failed.
const (
	doneFlushTimeout = 10 * time.Second
	doneFlushRetry   = time.Second
)

// Inbox remembers, per consumer, the events it has handled (table consumed_events).
//
// On SQLite every write transaction takes the database's only write lock, which the API needs
// for every order, so the inbox writes once per event on the happy path: the "done" mark of a
// handled event is written in the transaction of the next claim (or alone after doneFlushDelay,
// or on Flush). A mark not written yet is applied before any claim, so a redelivery still finds
// its event done. A crash loses the marks not written yet: their events stay claimed, and a
// redelivery of one runs it again once the claim's lease has run out, as after a crash while
// it ran.
type Inbox struct {
	db        *sql.DB
	rebind    func(string) string
	now       func() time.Time
	deferDone bool

	mu      sync.Mutex
	pending []doneMark
	timer   *time.Timer
}

type doneMark struct {
	consumer, eventID string
	at                int64
}

// NewInbox returns the inbox in db, a "postgres" or "sqlite" database.
func NewInbox(db *sql.DB, dialect string) (*Inbox, error) {
	switch dialect {
	case "postgres":
		return &Inbox{db: db, rebind: dollarPlaceholders, now: time.Now}, nil
	case "sqlite":
		return &Inbox{db: db, rebind: func(q string) string { return q }, now: time.Now, deferDone: true}, nil
	default:
		return nil, fmt.Errorf("consumers: unknown dialect %q", dialect)
	}
}

// Once runs fn unless consumer has handled eventID already. While fn runs, the event is claimed,
// and another delivery of it fails with errInProgress; when fn fails the claim is released.
func (i *Inbox) Once(ctx context.Context, consumer, eventID string, fn func(ctx context.Context) error) error {
	state, err := i.claim(ctx, consumer, eventID)
	if err != nil || state == alreadyDone {
		return err
	}
	if state == heldElsewhere {
		select {
		case <-ctx.Done():
		case <-time.After(inProgressPause):
		}
		return errInProgress
	}
	if err := fn(ctx); err != nil {
		releaseErr := i.inTx(ctx, func(tx *sql.Tx) error {
			_, err := i.exec(ctx, tx, `DELETE FROM consumed_events WHERE consumer = ? AND event_id = ? AND done_at IS NULL`, consumer, eventID)
			return err
		})
		return errors.Join(err, releaseErr)
	}
	mark := doneMark{consumer: consumer, eventID: eventID, at: i.now().UnixMilli()}
	if i.deferDone {
		i.deferMark(mark)
		return nil
	}
	return i.inTx(ctx, func(tx *sql.Tx) error { return i.markDone(ctx, tx, mark) })
}

// Flush writes the "done" marks not written yet.
func (i *Inbox) Flush(ctx context.Context) error {
	return i.inTx(ctx, nil)
}

func (i *Inbox) deferMark(mark doneMark) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.pending = append(i.pending, mark)
	if i.timer == nil {
		i.timer = time.AfterFunc(doneFlushDelay, i.flushLater)
	}
}

func (i *Inbox) flushLater() {
	i.mu.Lock()
	i.timer = nil
	i.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), doneFlushTimeout)
	defer cancel()
	if err := i.Flush(ctx); err != nil {
		i.mu.Lock()
		if i.timer == nil { // the marks are back in pending; the next claim may write them first
			i.timer = time.AfterFunc(doneFlushRetry, i.flushLater)
		}
		i.mu.Unlock()
	}
}

// inTx runs fn (if any) in a write transaction that first writes the pending "done" marks; when
// it fails, they are pending again.
func (i *Inbox) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	i.mu.Lock()
	marks := i.pending
	i.pending = nil
	i.mu.Unlock()
	defer func() {
		if err != nil && len(marks) > 0 {
			i.mu.Lock()
			i.pending = append(marks, i.pending...)
			i.mu.Unlock()
		}
	}()
	if len(marks) == 0 && fn == nil {
		return nil
	}
	tx, err := i.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consumers: inbox: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, m := range marks {
		if err := i.markDone(ctx, tx, m); err != nil {
			return err
		}
	}
	if fn != nil {
		if err := fn(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consumers: inbox: commit: %w", err)
	}
	return nil
}

func (i *Inbox) markDone(ctx context.Context, tx *sql.Tx, m doneMark) error {
	_, err := i.exec(ctx, tx, `UPDATE consumed_events SET done_at = ? WHERE consumer = ? AND event_id = ?`, m.at, m.consumer, m.eventID)
	return err
}

type claimState int

const (
	claimed claimState = iota
	alreadyDone
	heldElsewhere
)

// claim claims the event in one transaction (with the pending "done" marks).
func (i *Inbox) claim(ctx context.Context, consumer, eventID string) (state claimState, err error) {
	err = i.inTx(ctx, func(tx *sql.Tx) error {
		state, err = i.claimIn(ctx, tx, consumer, eventID)
		return err
	})
	return state, err
}

func (i *Inbox) claimIn(ctx context.Context, tx *sql.Tx, consumer, eventID string) (claimState, error) {
	now := i.now().UnixMilli()
	n, err := i.exec(ctx, tx, `INSERT INTO consumed_events (consumer, event_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, consumer, eventID, now)
	if err != nil || n == 1 {
		return claimed, err
	}
	n, err = i.exec(ctx, tx, `UPDATE consumed_events SET claimed_at = ? WHERE consumer = ? AND event_id = ? AND done_at IS NULL AND claimed_at < ?`,
		now, consumer, eventID, now-claimLease.Milliseconds())
	if err != nil || n == 1 {
		return claimed, err
	}
	var doneAt sql.NullInt64
	err = tx.QueryRowContext(ctx, i.rebind(`SELECT done_at FROM consumed_events WHERE consumer = ? AND event_id = ?`), consumer, eventID).Scan(&doneAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return heldElsewhere, nil // released between the two statements: come back later
	case err != nil:
		return 0, fmt.Errorf("consumers: read claim of %s: %w", eventID, err)
	case doneAt.Valid:
		return alreadyDone, nil
	default:
		return heldElsewhere, nil
	}
}

func (i *Inbox) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, i.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("consumers: inbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("consumers: inbox: %w", err)
	}
	return n, nil
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
