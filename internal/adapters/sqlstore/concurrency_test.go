package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Invariants 1 and 3 under load: the database, not the Go code, decides who wins a race.
func TestConcurrency_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		const racers = 20

		t.Run("20 orders for the last 5 units: exactly 5 succeed", func(t *testing.T) {
			p := addProduct(t, tdb, "p-last", 5)
			orders := make([]*order.Order, racers)
			for i := range orders {
				orders[i] = placeOrder(t, orderSpec{id: fmt.Sprintf("o-race-%02d", i)}, p)
			}
			errs := parallel(racers, func(i int) error {
				return tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					return placeInTx(ctx, tx, orders[i], "evt-race-"+orders[i].ID())
				})
			})
			if won := winners(t, errs, catalog.ErrOutOfStock); won != 5 {
				t.Errorf("%d orders succeeded; want 5", won)
			}
			assertStored(t, tdb, "p-last", 0, 5)
			if n := tdb.count(t, "test_outbox"); n != 5 {
				t.Errorf("%d events; want 5", n)
			}
		})

		t.Run("concurrent product updates are serialized", func(t *testing.T) {
			addProduct(t, tdb, "p-counter", 0)
			errs := parallel(racers, func(int) error {
				_, err := tdb.store.Products().Update(ctx, "p-counter", func(p *catalog.Product) error {
					next := p.Stock() + 1
					return p.Apply(catalog.Patch{Stock: &next}, t0)
				})
				return err
			})
			assertNoErrors(t, errs)
			if p, _ := tdb.store.Products().Get(ctx, "p-counter"); p.Stock() != racers {
				t.Errorf("stock = %d after %d increments; want %d (lost updates)", p.Stock(), racers, racers)
			}
		})

		t.Run("concurrent order updates are serialized and apply once", func(t *testing.T) {
			p := addProduct(t, tdb, "p-cash", 5)
			o := addOrder(t, tdb, orderSpec{id: "o-cash", method: payment.MethodCash}, p)
			errs := parallel(racers, func(int) error {
				_, err := tdb.store.Orders().Update(ctx, o.ID(), func(o *order.Order) error {
					_, err := o.CollectCash(order.CauseAdmin("a1"), t0)
					return err
				})
				return err
			})
			assertNoErrors(t, errs)
			stored, err := tdb.store.Orders().Get(ctx, o.ID())
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			paid := 0
			for _, c := range stored.Timeline() {
				if c.Type == order.ChangePaymentSucceeded {
					paid++
				}
			}
			if paid != 1 || stored.Payment().Status() != payment.StatusPaid {
				t.Errorf("payment %s with %d payment.succeeded entries; want Paid once", stored.Payment().Status(), paid)
			}
			if stored.Version() != racers {
				t.Errorf("version = %d after %d updates; want %d", stored.Version(), racers, racers)
			}
		})

		t.Run("concurrent deliveries of one webhook event: exactly one is new", func(t *testing.T) {
			ev := payment.Event{ID: "evt_dup", Type: payment.EventIntentSucceeded, IntentID: "pi_1", Payload: []byte(`{}`)}
			fresh := make([]bool, racers)
			errs := parallel(racers, func(i int) error {
				return tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					var err error
					fresh[i], err = tx.Webhooks().Record(ctx, ev, t0)
					return err
				})
			})
			assertNoErrors(t, errs)
			if n := countTrue(fresh); n != 1 {
				t.Errorf("%d deliveries were new; want 1", n)
			}
		})

		t.Run("concurrent claims of one webhook event: exactly one wins", func(t *testing.T) {
			ev := payment.Event{ID: "evt_claim", Type: payment.EventIntentSucceeded, Payload: []byte(`{}`)}
			if _, err := tdb.store.Webhooks().Record(ctx, ev, t0); err != nil {
				t.Fatalf("record: %v", err)
			}
			won := make([]bool, racers)
			errs := parallel(racers, func(i int) error {
				return tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					var err error
					won[i], err = tx.Webhooks().Claim(ctx, ev.ID, t0)
					return err
				})
			})
			assertNoErrors(t, errs)
			if n := countTrue(won); n != 1 {
				t.Errorf("%d claims won; want 1", n)
			}
		})

		t.Run("concurrent requests with one Idempotency-Key: exactly one claims it", func(t *testing.T) {
			claimed := make([]bool, racers)
			errs := parallel(racers, func(i int) error {
				rec, err := tdb.store.Idempotency().Claim(ctx, app.IdempotencyRequest{Scope: "orders", Key: "key-race",
					RequestHash: "hash", Now: t0, Lease: time.Minute, ExpiresAt: t0.Add(time.Hour)})
				claimed[i] = rec.Claimed
				return err
			})
			assertNoErrors(t, errs)
			if n := countTrue(claimed); n != 1 {
				t.Errorf("%d requests claimed the key; want 1", n)
			}
		})
	})
}

func assertNoErrors(t *testing.T, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent calls failed: %v", err)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
