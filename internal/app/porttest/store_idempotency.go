package porttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// holdWindow is how long a transaction holding a claim lets a concurrent takeover try its luck.
const holdWindow = 200 * time.Millisecond

func (s storeSuite) idempotency(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	keys := store.Idempotency()
	if keys == nil {
		t.Fatal("Idempotency() is nil")
	}
	const scope, lease = "customer-1 POST /api/orders", 5 * time.Second
	claim := func(t *testing.T, key, hash string, at time.Time) app.IdempotencyRecord {
		t.Helper()
		rec, err := keys.Claim(ctx, app.IdempotencyRequest{Scope: scope, Key: key, RequestHash: hash, Now: at,
			Lease: lease, ExpiresAt: at.Add(24 * time.Hour)})
		if err != nil {
			t.Fatalf("Claim(%s): %v", key, err)
		}
		return rec
	}
	answer := app.Answer{Status: 201, Body: []byte(`{"orderId":"o1"}`)}

	t.Run("a claim, its takeover after the lease, and the fenced answer", func(t *testing.T) {
		first := claim(t, "k1", "h1", t0)
		if !first.Claimed || !first.ClaimedAt.Equal(t0) || !first.LockedUntil.Equal(t0.Add(lease)) || first.Done {
			t.Fatalf("first claim = %+v; want claimed at t0, locked for the lease", first)
		}
		if rec := claim(t, "k1", "h1", t0.Add(time.Second)); rec.Claimed || rec.Done || !rec.LockedUntil.Equal(t0.Add(lease)) {
			t.Errorf("a retry during the lease = %+v; want the live claim", rec)
		}
		if rec := claim(t, "k1", "h2", t0.Add(time.Hour)); rec.Claimed || rec.RequestHash != "h1" {
			t.Errorf("another body after the lease = %+v; want the first body's hash, not a takeover", rec)
		}
		second := claim(t, "k1", "h1", t0.Add(lease+time.Second))
		if !second.Claimed || second.Token == first.Token || !second.ClaimedAt.Equal(t0) {
			t.Fatalf("a retry after the lease = %+v; want a takeover with a new token, the first claim's time", second)
		}
		if err := keys.Keep(ctx, scope, "k1", first.Token, answer); !errors.Is(err, app.ErrIdempotencyClaimLost) {
			t.Errorf("Keep by the overtaken claim: %v; want ErrIdempotencyClaimLost", err)
		}
		if err := keys.Hold(ctx, scope, "k1", first.Token); !errors.Is(err, app.ErrIdempotencyClaimLost) {
			t.Errorf("Hold by the overtaken claim: %v; want ErrIdempotencyClaimLost", err)
		}
		if err := keys.Release(ctx, scope, "k1", first.Token); err != nil {
			t.Fatalf("Release by the overtaken claim: %v", err)
		}
		if err := keys.Hold(ctx, scope, "k1", second.Token); err != nil {
			t.Fatalf("Hold by the claim that holds the key: %v", err)
		}
		if err := keys.Keep(ctx, scope, "k1", second.Token, answer); err != nil {
			t.Fatalf("Keep by the claim that holds the key: %v", err)
		}
		if err := keys.Release(ctx, scope, "k1", second.Token); err != nil {
			t.Fatalf("Release of a kept answer: %v", err)
		}
		replayed := claim(t, "k1", "h1", t0.Add(time.Hour))
		if replayed.Claimed || !replayed.Done || !reflect.DeepEqual(replayed.Answer, answer) {
			t.Errorf("a retry after the answer = %+v; want the kept answer", replayed)
		}
	})

	t.Run("a takeover waits for the transaction that holds the claim", func(t *testing.T) {
		held := claim(t, "k-held", "h1", t0)
		var retry app.IdempotencyRecord
		retried := make(chan error, 1)
		err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
			if err := tx.Idempotency().Hold(ctx, scope, "k-held", held.Token); err != nil {
				return err
			}
			go func() { // a retry after the lease ran out, while the request's transaction runs
				var err error
				retry, err = keys.Claim(context.Background(), app.IdempotencyRequest{Scope: scope, Key: "k-held",
					RequestHash: "h1", Now: t0.Add(lease + time.Second), Lease: lease, ExpiresAt: t0.Add(24 * time.Hour)})
				retried <- err
			}()
			time.Sleep(holdWindow)
			return tx.Idempotency().Keep(ctx, scope, "k-held", held.Token, answer)
		})
		if err != nil {
			t.Fatalf("the holding transaction: %v; want its answer kept", err)
		}
		if err := <-retried; err != nil || retry.Claimed || !retry.Done || !reflect.DeepEqual(retry.Answer, answer) {
			t.Errorf("the retry = %+v, %v; want the answer the holder kept, no takeover", retry, err)
		}
	})

	t.Run("a released key is claimed afresh", func(t *testing.T) {
		released := claim(t, "k2", "h1", t0)
		if err := keys.Release(ctx, scope, "k2", released.Token); err != nil {
			t.Fatal(err)
		}
		if rec := claim(t, "k2", "h3", t0); !rec.Claimed || rec.RequestHash != "h3" {
			t.Errorf("a released key = %+v; want a fresh claim of the new body", rec)
		}
	})

	t.Run("an answer kept in a transaction that rolls back is not kept", func(t *testing.T) {
		rec := claim(t, "k3", "h1", t0)
		err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
			if err := tx.Idempotency().Hold(ctx, scope, "k3", rec.Token); err != nil {
				return err
			}
			if err := tx.Idempotency().Keep(ctx, scope, "k3", rec.Token, answer); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v; want errBoom", err)
		}
		if again := claim(t, "k3", "h1", t0.Add(time.Second)); again.Done {
			t.Errorf("after the rollback the key = %+v; want no answer", again)
		}
	})

	t.Run("pruning deletes expired keys in batches, oldest first", func(t *testing.T) {
		for i := range 5 {
			claim(t, fmt.Sprintf("old-%d", i), "h", t0.Add(-48*time.Hour+time.Duration(i)*time.Minute))
		}
		for _, want := range []int{2, 2, 1, 0} {
			if n, err := keys.PruneExpired(ctx, t0.Add(-time.Hour), 2); err != nil || n != want {
				t.Fatalf("PruneExpired = %d, %v; want %d", n, err, want)
			}
		}
		if rec := claim(t, "k1", "h1", t0.Add(time.Hour)); !rec.Done {
			t.Errorf("pruning took a key that has not expired: %+v", rec)
		}
		if rec := claim(t, "old-4", "h2", t0); !rec.Claimed || rec.RequestHash != "h2" {
			t.Errorf("a pruned key = %+v; want it free to claim afresh", rec)
		}
	})

	t.Run("concurrent requests with one key: exactly one claims it", func(t *testing.T) {
		claimed := howManyTrue(t, func() (bool, error) {
			rec, err := keys.Claim(ctx, app.IdempotencyRequest{Scope: "orders", Key: "key-race",
				RequestHash: "hash", Now: t0, Lease: time.Minute, ExpiresAt: t0.Add(time.Hour)})
			return rec.Claimed, err
		})
		if claimed != 1 {
			t.Errorf("%d requests claimed the key; want 1", claimed)
		}
	})
}
