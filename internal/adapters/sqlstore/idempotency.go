package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/app"
)

type idempotencyRow struct {
	bun.BaseModel `bun:"table:idempotency_keys,alias:ik"`

	Scope       string    `bun:"scope,pk"`
	Key         string    `bun:"key,pk"`
	RequestHash string    `bun:"request_hash"`
	Token       int64     `bun:"token"`
	LockedUntil time.Time `bun:"locked_until,nullzero"`
	Done        bool      `bun:"done"`
	Status      int       `bun:"status"`
	Body        []byte    `bun:"body"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at,nullzero"`
}

// claimAttempts bounds Claim's retries: a claim can vanish between our failed insert and our read
// when its request is released or pruned, and then the key is free to claim again.
const claimAttempts = 3

// idempotencyStore is app.IdempotencyStore. The primary key (scope, key) lets exactly one request
// insert a claim; a conditional UPDATE that bumps token takes over a claim whose lease ran out
// without an answer, and Keep's UPDATE … WHERE token = ? is the fence: on Postgres the row lock
// orders a takeover and a commit of the answer (whichever comes second finds the row changed and
// does nothing), on SQLite the single writer does.
type idempotencyStore struct{ repos }

func (s idempotencyStore) Claim(ctx context.Context, req app.IdempotencyRequest) (app.IdempotencyRecord, error) {
	now := req.Now.UTC().Truncate(time.Microsecond) // as stored, so ids derived from it agree
	for range claimAttempts {
		claim := &idempotencyRow{Scope: req.Scope, Key: req.Key, RequestHash: req.RequestHash, Token: 1,
			LockedUntil: now.Add(req.Lease), CreatedAt: now, ExpiresAt: req.ExpiresAt.UTC()}
		claimed, err := insertIfAbsent(ctx, s.db, claim, "scope, key")
		if err != nil {
			return app.IdempotencyRecord{}, fmt.Errorf("claim idempotency key: %w", err)
		}
		if claimed {
			return claim.record(true), nil
		}
		if taken, ok, err := s.takeOver(ctx, req, now); err != nil || ok {
			return taken, err
		}
		existing := new(idempotencyRow)
		err = s.db.NewSelect().Model(existing).Where("ik.scope = ? AND ik.key = ?", req.Scope, req.Key).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return app.IdempotencyRecord{}, fmt.Errorf("read idempotency key: %w", err)
		}
		return existing.record(false), nil
	}
	return app.IdempotencyRecord{}, fmt.Errorf("claim idempotency key: still contended after %d attempts", claimAttempts)
}

// takeOver claims the key from a request of the same body whose lease ran out before it kept an
// answer (it crashed or lost its connection): nothing of it committed, so the retry runs afresh.
func (s idempotencyStore) takeOver(ctx context.Context, req app.IdempotencyRequest, now time.Time) (app.IdempotencyRecord, bool, error) {
	row := new(idempotencyRow)
	err := s.db.NewUpdate().Model(row).
		Set("token = token + 1").Set("locked_until = ?", now.Add(req.Lease)).
		Where("scope = ? AND key = ? AND request_hash = ?", req.Scope, req.Key, req.RequestHash).
		Where("done = ? AND (locked_until IS NULL OR locked_until < ?)", false, now). // NULL: claimed before leases existed
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return app.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return app.IdempotencyRecord{}, false, fmt.Errorf("take over idempotency key: %w", err)
	}
	return row.record(true), true, nil
}

// Hold is an UPDATE that changes nothing but takes the row lock (Postgres) until the transaction
// ends; on SQLite the transaction holds the only write lock already.
func (s idempotencyStore) Hold(ctx context.Context, scope, key string, token int64) error {
	res, err := s.db.NewUpdate().Model((*idempotencyRow)(nil)).Set("token = token").
		Where("scope = ? AND key = ? AND token = ?", scope, key, token).Exec(ctx)
	if err == nil {
		err = requireOneRow(res, app.ErrIdempotencyClaimLost)
	}
	if err != nil {
		return fmt.Errorf("hold idempotency key: %w", err)
	}
	return nil
}

func (s idempotencyStore) Keep(ctx context.Context, scope, key string, token int64, answer app.Answer) error {
	body := answer.Body
	if body == nil {
		body = []byte{}
	}
	res, err := s.db.NewUpdate().Model((*idempotencyRow)(nil)).
		Set("done = ?", true).Set("status = ?", answer.Status).Set("body = ?", body).Set("locked_until = NULL").
		Where("scope = ? AND key = ? AND token = ?", scope, key, token).Exec(ctx)
	if err == nil {
		err = requireOneRow(res, app.ErrIdempotencyClaimLost)
	}
	if err != nil {
		return fmt.Errorf("keep idempotent answer: %w", err)
	}
	return nil
}

// Release deletes the claim unless its answer is kept or another request holds it now: a finished
// request is never forgotten, so its replays keep getting the same answer.
func (s idempotencyStore) Release(ctx context.Context, scope, key string, token int64) error {
	_, err := s.db.NewDelete().Model((*idempotencyRow)(nil)).
		Where("scope = ? AND key = ? AND token = ? AND done = ?", scope, key, token, false).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// PruneExpired deletes one batch of expired keys, oldest first. On Postgres rows that a request
// holds locked at the moment are skipped, so pruning never waits on (or stalls) live traffic.
func (s idempotencyStore) PruneExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	expired := s.db.NewSelect().Model((*idempotencyRow)(nil)).Column("ik.scope", "ik.key").
		Where("ik.expires_at < ?", before.UTC()).Order("ik.expires_at").Limit(int64(batch))
	if s.dialect == Postgres {
		expired = expired.For("UPDATE SKIP LOCKED")
	}
	res, err := s.db.NewDelete().Model((*idempotencyRow)(nil)).Where("(scope, key) IN (?)", expired).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (r *idempotencyRow) record(claimed bool) app.IdempotencyRecord {
	rec := app.IdempotencyRecord{RequestHash: r.RequestHash, Claimed: claimed, Token: r.Token, Done: r.Done,
		LockedUntil: r.LockedUntil.UTC(), ClaimedAt: r.CreatedAt.UTC()}
	if r.Done {
		rec.Answer = app.Answer{Status: r.Status, Body: r.Body}
	}
	return rec
}
