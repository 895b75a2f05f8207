package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/order"
)

// The port suite (porttest_test.go) proves that the unit of work over this store writes the events
// of what changed and none when the transaction rolls back; here the outbox itself fails to open.
func TestUnitOfWorkRollsBackAChangeWhoseEventCannotBeWritten_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		o := porttest.AddOrder(t, tdb.store, porttest.OrderSpec{ID: "o-uow-outbox-fails"}, addProduct(t, tdb, "p-uow", 10))
		broken := app.NewUnitOfWork(NewStore(tdb.db, tdb.dialect, func(context.Context, *sql.Tx) (app.Outbox, error) {
			return nil, errBoom
		}))
		err := broken.InTx(ctx, func(ctx context.Context, tx app.Tx) error {
			_, err := tx.Orders().Update(ctx, o.ID(), func(o *order.Order) error {
				_, err := o.Cancel(true, order.CauseAdmin("a1"), t0)
				return err
			})
			return err
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx: %v; want the outbox's errBoom", err)
		}
		if stored, err := tdb.store.Orders().Get(ctx, o.ID()); err != nil || stored.Status() != order.StatusPending {
			t.Errorf("order %s: %v, %v; want it still %s", o.ID(), stored.Status(), err, order.StatusPending)
		}
	})
}

var errBoom = errors.New("boom")
