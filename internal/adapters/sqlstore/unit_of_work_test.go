package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/order"
)

// TestUnitOfWorkWritesTheEventsOfWhatChanged_SQLiteAndPostgres proves that a use case cannot forget
// an event: work that changes an order through the unit of work, with no publishing code of its
// own, leaves its event in the outbox of the same transaction — and no event when the transaction
// rolls back, by the work's error or at COMMIT.
func TestUnitOfWorkWritesTheEventsOfWhatChanged_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		uow := app.NewUnitOfWork(tdb.store)
		p := addProduct(t, tdb, "p-uow", 10)
		cancel := func(id string) func(ctx context.Context, tx app.Tx) error {
			return func(ctx context.Context, tx app.Tx) error {
				_, err := tx.Orders().Update(ctx, id, func(o *order.Order) error {
					_, err := o.Cancel(true, order.CauseAdmin("a1"), t0)
					return err
				})
				return err
			}
		}

		t.Run("a committed change leaves its event", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-uow-commit"}, p)
			if err := uow.InTx(ctx, cancel(o.ID())); err != nil {
				t.Fatalf("InTx: %v", err)
			}
			assertOutbox(t, tdb, o.ID(), events.TopicOrderCancelled)
			assertStatus(t, tdb, o.ID(), order.StatusCancelled)
		})

		t.Run("an added order leaves its event", func(t *testing.T) {
			o := placeOrder(t, orderSpec{id: "o-uow-add"}, p)
			err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error { return tx.Orders().Add(ctx, o) })
			if err != nil {
				t.Fatalf("InTx: %v", err)
			}
			assertOutbox(t, tdb, o.ID(), events.TopicOrderCreated)
		})

		t.Run("the work's error leaves no event", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-uow-fail"}, p)
			err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error {
				if err := cancel(o.ID())(ctx, tx); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("InTx: %v; want errBoom", err)
			}
			assertOutbox(t, tdb, o.ID())
			assertStatus(t, tdb, o.ID(), order.StatusPending)
		})

		t.Run("a failed commit leaves no event", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-uow-commit-fails"}, p)
			ctx, stop := context.WithCancel(ctx)
			defer stop()
			err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error {
				if err := cancel(o.ID())(ctx, tx); err != nil {
					return err
				}
				stop() // the work is done; the client goes away before COMMIT
				return nil
			})
			if err == nil {
				t.Fatal("InTx: the commit passed after its context ended")
			}
			assertOutbox(t, tdb, o.ID())
			assertStatus(t, tdb, o.ID(), order.StatusPending)
		})

		t.Run("an event that cannot be written rolls the change back", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-uow-outbox-fails"}, p)
			broken := app.NewUnitOfWork(NewStore(tdb.db, tdb.dialect, func(context.Context, *sql.Tx) (app.Outbox, error) {
				return nil, errBoom
			}))
			if err := broken.InTx(ctx, cancel(o.ID())); !errors.Is(err, errBoom) {
				t.Fatalf("InTx: %v; want the outbox's errBoom", err)
			}
			assertStatus(t, tdb, o.ID(), order.StatusPending)
		})
	})
}

// assertOutbox checks that the outbox holds exactly the events of topics for orderID, in order.
func assertOutbox(t *testing.T, tdb *testDB, orderID string, topics ...string) {
	t.Helper()
	var got []string
	err := tdb.db.NewSelect().TableExpr("test_outbox").Column("topic").Where("order_id = ?", orderID).
		OrderExpr("event_id").Scan(context.Background(), &got)
	if err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(topics) {
		t.Errorf("outbox events of %s: %v; want %v", orderID, got, topics)
	}
}

func assertStatus(t *testing.T, tdb *testDB, orderID string, want order.Status) {
	t.Helper()
	o, err := tdb.store.Orders().Get(context.Background(), orderID)
	if err != nil || o.Status() != want {
		t.Errorf("order %s: %v, %v; want %s", orderID, o.Status(), err, want)
	}
}
