package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// The port suite (porttest_test.go) runs the Idempotency-Key store on both dialects; here a claim
// left in progress before claims had leases (locked_until NULL) is not held forever.
func TestIdempotencyClaimWithoutALeaseIsTakenOver_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const scope = "customer-1 POST /api/orders"
		legacy := &idempotencyRow{Scope: scope, Key: "k-legacy", RequestHash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		if _, err := tdb.db.NewInsert().Model(legacy).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		rec, err := tdb.store.Idempotency().Claim(ctx, app.IdempotencyRequest{Scope: scope, Key: "k-legacy", RequestHash: "h1",
			Now: t0, Lease: 5 * time.Second, ExpiresAt: t0.Add(24 * time.Hour)})
		if err != nil || !rec.Claimed || rec.Token != 1 {
			t.Errorf("a retry of a claim without a lease = %+v, %v; want a takeover with token 1", rec, err)
		}
	})
}
