package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/wolfix/orders/internal/app"
)

type idempotencyKey struct{ scope, key string }

// idempotencyRecord is a stored claim: the record Claim answers, and when it expires.
type idempotencyRecord struct {
	app.IdempotencyRecord
	expiresAt time.Time
}

type idempotency repos

// Claim takes a free key, or takes over one of the same body whose lease ran out without an
// answer (with the next token); otherwise it returns the record as stored.
func (r idempotency) Claim(ctx context.Context, req app.IdempotencyRequest) (rec app.IdempotencyRecord, err error) {
	err = r.run(ctx, func(st *state) error {
		id := idempotencyKey{req.Scope, req.Key}
		stored, exists := st.keys[id]
		switch {
		case !exists:
			stored = idempotencyRecord{app.IdempotencyRecord{RequestHash: req.RequestHash, Token: 1, ClaimedAt: req.Now},
				req.ExpiresAt}
		case stored.RequestHash == req.RequestHash && !stored.Done && stored.LockedUntil.Before(req.Now):
			stored.Token++
		default:
			rec = stored.IdempotencyRecord
			rec.Claimed = false
			return nil
		}
		stored.LockedUntil = req.Now.Add(req.Lease)
		st.keys[id] = stored
		rec = stored.IdempotencyRecord
		rec.Claimed = true
		return nil
	})
	return rec, err
}

// Hold needs no lock of its own: the store's one lock serializes transactions.
func (r idempotency) Hold(ctx context.Context, scope, key string, token int64) error {
	return r.run(ctx, func(st *state) error {
		_, err := st.claimHeldBy(scope, key, token)
		return err
	})
}

func (r idempotency) Keep(ctx context.Context, scope, key string, token int64, answer app.Answer) error {
	return r.run(ctx, func(st *state) error {
		stored, err := st.claimHeldBy(scope, key, token)
		if err != nil {
			return err
		}
		stored.Done, stored.Answer, stored.LockedUntil = true, answer, time.Time{}
		st.keys[idempotencyKey{scope, key}] = stored
		return nil
	})
}

func (r idempotency) Release(ctx context.Context, scope, key string, token int64) error {
	return r.run(ctx, func(st *state) error {
		if stored, err := st.claimHeldBy(scope, key, token); err == nil && !stored.Done {
			delete(st.keys, idempotencyKey{scope, key})
		}
		return nil
	})
}

func (r idempotency) PruneExpired(ctx context.Context, before time.Time, batch int) (n int, err error) {
	err = r.run(ctx, func(st *state) error {
		var expired []idempotencyKey
		for id, stored := range st.keys {
			if stored.expiresAt.Before(before) {
				expired = append(expired, id)
			}
		}
		slices.SortFunc(expired, func(a, b idempotencyKey) int {
			return cmp.Or(st.keys[a].expiresAt.Compare(st.keys[b].expiresAt), cmp.Compare(a.key, b.key))
		})
		for _, id := range expired[:min(len(expired), batch)] {
			delete(st.keys, id)
			n++
		}
		return nil
	})
	return n, err
}

// claimHeldBy returns the stored claim of (scope, key) if token holds it, else ErrIdempotencyClaimLost.
func (st *state) claimHeldBy(scope, key string, token int64) (idempotencyRecord, error) {
	stored, ok := st.keys[idempotencyKey{scope, key}]
	if !ok || stored.Token != token {
		return idempotencyRecord{}, app.ErrIdempotencyClaimLost
	}
	return stored, nil
}
