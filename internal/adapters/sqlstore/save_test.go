package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// save checks the version with the order's row: a stale order is refused as a version conflict,
// and nothing of it stays (on Postgres, where the save is held for the COMMIT, the check in the
// statement fails the COMMIT).
func TestSaveRefusesAStaleVersion_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		p := addProduct(t, tdb, "p-stale", 10)
		placed := porttest.AddOrder(t, tdb.store, porttest.OrderSpec{ID: "o-stale"}, p)
		stale, err := tdb.store.Orders().Get(ctx, placed.ID())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tdb.store.Orders().Update(ctx, placed.ID(), func(o *order.Order) error {
			_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt-1"), t0)
			return err
		}); err != nil {
			t.Fatalf("update: %v", err)
		}
		before := tdb.count(t, "order_timeline")
		if _, err := stale.ApplyIntent(succeeded(stale), order.CauseWebhook("evt-2"), t0); err != nil {
			t.Fatal(err)
		}
		err = runInTx(ctx, tdb.db, func(ctx context.Context, tx bun.Tx) error {
			return orderRepo{repos{db: tx, dialect: tdb.dialect}}.save(ctx, tx, stale, true)
		})
		if !errors.Is(err, errVersionConflict) {
			t.Fatalf("save of a stale order: got %v; want errVersionConflict", err)
		}
		if after := tdb.count(t, "order_timeline"); after != before {
			t.Errorf("timeline rows: %d after the refused save; want %d", after, before)
		}
	})
}

// succeeded is the provider's report that o's intent was paid in full.
func succeeded(o *order.Order) payment.Intent {
	return payment.Intent{ID: o.Payment().IntentID(), Amount: o.Total().Minor(),
		Currency: o.Total().Currency().Code(), Status: payment.IntentSucceeded, OrderID: o.ID()}
}

// An update writes the payment row only when it changed the payment: handing a paid order to
// fulfillment adds to its timeline and leaves the payment row as the webhook wrote it (Postgres
// tells by the row's xmin, the transaction that wrote it last).
func TestUpdateWritesThePaymentOnlyWhenItChanged_Postgres(t *testing.T) {
	tdb := openTestDB(t, testenv.PostgresURL(t))
	ctx := context.Background()
	placed := porttest.AddOrder(t, tdb.store, porttest.OrderSpec{ID: "o-pay-once"}, addProduct(t, tdb, "p-pay-once", 10))
	update := func(step func(o *order.Order) error) (paymentWriter string) {
		t.Helper()
		if _, err := tdb.store.Orders().Update(ctx, placed.ID(), step); err != nil {
			t.Fatalf("update: %v", err)
		}
		if err := tdb.db.NewRaw(`SELECT xmin::text FROM payments WHERE order_id = ?`, placed.ID()).Scan(ctx, &paymentWriter); err != nil {
			t.Fatal(err)
		}
		return paymentWriter
	}
	paid := update(func(o *order.Order) error {
		_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt-1"), t0)
		return err
	})
	handedOver := update(func(o *order.Order) error {
		if !o.HandToFulfillment(order.CauseFulfillment, t0) {
			t.Fatal("the paid order was not handed to fulfillment")
		}
		return nil
	})
	if handedOver != paid {
		t.Errorf("handing the order to fulfillment wrote its payment again (xmin %s, then %s)", paid, handedOver)
	}
	stored, err := tdb.store.Orders().Get(ctx, placed.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Payment().Status(); got != payment.StatusPaid {
		t.Errorf("payment status: got %s; want %s", got, payment.StatusPaid)
	}
	if got, want := stored.Version(), placed.Version()+2; got != want {
		t.Errorf("version: got %d; want %d (two updates)", got, want)
	}
}
