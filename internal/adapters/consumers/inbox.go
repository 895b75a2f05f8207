package consumers

import (
	"context"
	"errors"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// errInProgress says that another delivery of the event is being handled right now.
var errInProgress = errors.New("consumers: the event is being handled by another delivery")

// inProgressPause is how long a delivery that found its event claimed by another one waits
// before failing: the in-process broker offers a nacked event again at once, and each offer is a
// write transaction.
const inProgressPause = 50 * time.Millisecond

// Inbox runs each consumer's reaction to an event once, remembering handled events in a
// app.ReactionLog (the database's, sqlstore.ReactionLog).
type Inbox struct {
	log app.ReactionLog
}

// NewInbox returns the inbox over log.
func NewInbox(log app.ReactionLog) *Inbox { return &Inbox{log: log} }

// Once runs fn unless consumer has handled eventID already. While fn runs, the event is claimed,
// and another delivery of it fails with errInProgress; when fn fails the claim is released.
func (i *Inbox) Once(ctx context.Context, consumer, eventID string, fn func(ctx context.Context) error) error {
	state, err := i.log.Claim(ctx, consumer, eventID)
	if err != nil || state == app.ReactionDone {
		return err
	}
	if state == app.ReactionHeld {
		select {
		case <-ctx.Done():
		case <-time.After(inProgressPause):
		}
		return errInProgress
	}
	if err := fn(ctx); err != nil {
		return errors.Join(err, i.log.Release(ctx, consumer, eventID))
	}
	return i.log.Done(ctx, consumer, eventID)
}

// Flush writes the "done" marks the log has not written yet.
func (i *Inbox) Flush(ctx context.Context) error {
	return i.log.Flush(ctx)
}
