package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// claimsPerStatement bounds the claims one INSERT carries (three parameters each).
const claimsPerStatement = 500

// claimStatementTimeout bounds a batch's statements: they run for every claim in the batch, so
// no one caller's context may cut them short.
const claimStatementTimeout = 10 * time.Second

// claimBatch gathers the claims that arrive while a claim statement is under way and writes them
// with the next one: a single INSERT … ON CONFLICT DO NOTHING RETURNING for all of them (after the
// pending "done" marks), where each claim alone was a statement, a commit and a wait for a pooled
// connection. A claim the INSERT did not take (its row exists) is settled on its own
// (claimTaken). One goroutine writes at a time, started by the first claim that finds none.
type claimBatch struct {
	log *ReactionLog

	mu      sync.Mutex
	waiting []*waitingClaim
	writing bool
}

type waitingClaim struct {
	consumer, eventID string
	result            chan claimResult
}

type claimResult struct {
	state app.ReactionClaim
	err   error
}

// claim queues the claim and waits for its batch to be written. It does not give up on its
// caller's context: the batch may claim the event anyway, and a claim abandoned unreported
// would hold the event until its lease ran out.
func (b *claimBatch) claim(consumer, eventID string) (app.ReactionClaim, error) {
	w := &waitingClaim{consumer: consumer, eventID: eventID, result: make(chan claimResult, 1)}
	b.mu.Lock()
	b.waiting = append(b.waiting, w)
	if !b.writing {
		b.writing = true
		go b.writeAll()
	}
	b.mu.Unlock()
	r := <-w.result
	return r.state, r.err
}

// writeAll writes batches until no claim waits.
func (b *claimBatch) writeAll() {
	for {
		b.mu.Lock()
		batch := b.waiting
		if len(batch) > claimsPerStatement {
			batch = batch[:claimsPerStatement]
		}
		b.waiting = b.waiting[len(batch):]
		if len(batch) == 0 {
			b.writing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.write(batch)
	}
}

// write claims batch and tells each waiting claim its result.
func (b *claimBatch) write(batch []*waitingClaim) {
	ctx, cancel := context.WithTimeout(context.Background(), claimStatementTimeout)
	defer cancel()
	var inserted map[[2]string]bool
	err := b.log.write(ctx, func(db execer) (err error) {
		inserted, err = b.insert(ctx, db, batch)
		return err
	})
	for _, w := range batch {
		key := [2]string{w.consumer, w.eventID}
		switch {
		case err != nil:
			w.result <- claimResult{err: err}
		case inserted[key]:
			delete(inserted, key) // a second delivery of the event in the same batch finds it held
			w.result <- claimResult{state: app.ReactionClaimed}
		default:
			state, err := b.log.claimTaken(ctx, b.log.db, w.consumer, w.eventID)
			w.result <- claimResult{state: state, err: err}
		}
	}
}

// insert inserts a claim row for each of batch and returns those it inserted.
func (b *claimBatch) insert(ctx context.Context, db execer, batch []*waitingClaim) (map[[2]string]bool, error) {
	now := b.log.now().UnixMilli()
	args := make([]any, 0, 3*len(batch))
	for _, w := range batch {
		args = append(args, w.consumer, w.eventID, now)
	}
	query := b.log.rebind(`INSERT INTO consumed_events (consumer, event_id, claimed_at) VALUES ` + placeholderRows(len(batch), "(?, ?, ?)") +
		` ON CONFLICT DO NOTHING RETURNING consumer, event_id`)
	result, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reaction log: claim: %w", err)
	}
	defer result.Close()
	inserted := make(map[[2]string]bool, len(batch))
	for result.Next() {
		var key [2]string
		if err := result.Scan(&key[0], &key[1]); err != nil {
			return nil, fmt.Errorf("sqlstore: reaction log: claim: %w", err)
		}
		inserted[key] = true
	}
	if err := result.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reaction log: claim: %w", err)
	}
	return inserted, nil
}
