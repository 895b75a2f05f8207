package consumers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errInProgress says that another delivery of the event is being handled right now.
var errInProgress = errors.New("consumers: the event is being handled by another delivery")

// claimLease is how long a claim keeps other deliveries of an event away; a claim older than that
// belonged to a consumer that died, and is taken over.
const claimLease = time.Minute

// Inbox remembers, per consumer, the events it has handled (table consumed_events).
type Inbox struct {
	db     *sql.DB
	rebind func(string) string
	now    func() time.Time
}

// NewInbox returns the inbox in db, a "postgres" or "sqlite" database.
func NewInbox(db *sql.DB, dialect string) (*Inbox, error) {
	switch dialect {
	case "postgres":
		return &Inbox{db: db, rebind: dollarPlaceholders, now: time.Now}, nil
	case "sqlite":
		return &Inbox{db: db, rebind: func(q string) string { return q }, now: time.Now}, nil
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
		return errInProgress
	}
	if err := fn(ctx); err != nil {
		_, releaseErr := i.exec(ctx, `DELETE FROM consumed_events WHERE consumer = ? AND event_id = ? AND done_at IS NULL`, consumer, eventID)
		return errors.Join(err, releaseErr)
	}
	_, err = i.exec(ctx, `UPDATE consumed_events SET done_at = ? WHERE consumer = ? AND event_id = ?`, i.now().UnixMilli(), consumer, eventID)
	return err
}

type claimState int

const (
	claimed claimState = iota
	alreadyDone
	heldElsewhere
)

func (i *Inbox) claim(ctx context.Context, consumer, eventID string) (claimState, error) {
	now := i.now().UnixMilli()
	n, err := i.exec(ctx, `INSERT INTO consumed_events (consumer, event_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, consumer, eventID, now)
	if err != nil || n == 1 {
		return claimed, err
	}
	n, err = i.exec(ctx, `UPDATE consumed_events SET claimed_at = ? WHERE consumer = ? AND event_id = ? AND done_at IS NULL AND claimed_at < ?`,
		now, consumer, eventID, now-claimLease.Milliseconds())
	if err != nil || n == 1 {
		return claimed, err
	}
	var doneAt sql.NullInt64
	err = i.db.QueryRowContext(ctx, i.rebind(`SELECT done_at FROM consumed_events WHERE consumer = ? AND event_id = ?`), consumer, eventID).Scan(&doneAt)
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

func (i *Inbox) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := i.db.ExecContext(ctx, i.rebind(query), args...)
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
