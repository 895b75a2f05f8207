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
	Done        bool      `bun:"done"`
	Status      int       `bun:"status"`
	Body        []byte    `bun:"body"`
	CreatedAt   time.Time `bun:"created_at"`
}

// errNotClaimed reports a Complete for a key no request claimed.
var errNotClaimed = errors.New("idempotency key is not claimed")

// claimAttempts bounds Begin's retries: a claim can vanish between our failed insert and our read
// when its request is abandoned, and then the key is free to claim again.
const claimAttempts = 3

// idempotencyStore is app.IdempotencyStore: the primary key (scope, key) lets exactly one request
// claim a key; the others read the claim.
type idempotencyStore struct{ repos }

func (s idempotencyStore) Begin(ctx context.Context, scope, key, requestHash string, now time.Time) (app.IdempotencyRecord, bool, error) {
	for range claimAttempts {
		claim := &idempotencyRow{Scope: scope, Key: key, RequestHash: requestHash, CreatedAt: now.UTC()}
		claimed, err := insertIfAbsent(ctx, s.db.NewInsert().Model(claim), "scope, key")
		if err != nil {
			return app.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if claimed {
			return app.IdempotencyRecord{RequestHash: requestHash}, true, nil
		}
		existing := new(idempotencyRow)
		err = s.db.NewSelect().Model(existing).Where("ik.scope = ? AND ik.key = ?", scope, key).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return app.IdempotencyRecord{}, false, fmt.Errorf("read idempotency key: %w", err)
		}
		return app.IdempotencyRecord{RequestHash: existing.RequestHash, Done: existing.Done,
			Status: existing.Status, Body: existing.Body}, false, nil
	}
	return app.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: still contended after %d attempts", claimAttempts)
}

func (s idempotencyStore) Complete(ctx context.Context, scope, key string, status int, body []byte) error {
	res, err := s.db.NewUpdate().Model((*idempotencyRow)(nil)).
		Set("done = ?", true).Set("status = ?", status).Set("body = ?", body).
		Where("scope = ? AND key = ?", scope, key).Exec(ctx)
	if err == nil {
		err = requireOneRow(res, errNotClaimed)
	}
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Abandon deletes the claim unless its response is already stored: a finished request is never
// forgotten, so its replays keep getting the same answer.
func (s idempotencyStore) Abandon(ctx context.Context, scope, key string) error {
	_, err := s.db.NewDelete().Model((*idempotencyRow)(nil)).
		Where("scope = ? AND key = ? AND done = ?", scope, key, false).Exec(ctx)
	if err != nil {
		return fmt.Errorf("abandon idempotency key: %w", err)
	}
	return nil
}
