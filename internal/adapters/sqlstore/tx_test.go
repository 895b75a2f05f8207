package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/app"
)

// The port suite (porttest_test.go) proves that transactions commit and roll back data and events
// together; these are the SQL store's own promises about them.
func TestTransactions_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()

		t.Run("the outbox is opened once, and only by a transaction that publishes", func(t *testing.T) {
			for _, publishes := range []int{0, 2} {
				opened := tdb.outbox.openCount()
				err := tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					for range publishes {
						if err := tx.Outbox().Publish(ctx, app.Event{ID: app.NewID()}); err != nil {
							return err
						}
					}
					return nil
				})
				if n := tdb.outbox.openCount() - opened; err != nil || n != min(publishes, 1) {
					t.Errorf("a transaction publishing %d times opened the outbox %d times (%v); want %d",
						publishes, n, err, min(publishes, 1))
				}
			}
		})

		atCommit := []struct {
			name string
			fn   func(ctx context.Context, cancel context.CancelFunc, tx app.StoreTx) error
		}{
			{"a commit after the caller went away", func(_ context.Context, cancel context.CancelFunc, _ app.StoreTx) error {
				cancel() // context.Canceled, or sql.ErrTxDone when database/sql rolled back first
				return nil
			}},
			{"a constraint checked at commit", func(ctx context.Context, _ context.CancelFunc, tx app.StoreTx) error {
				return exec(ctx, tx, "INSERT INTO test_deferred (id, parent_id) VALUES (1, 42)")
			}},
		}
		if _, err := tdb.db.ExecContext(ctx, `CREATE TABLE test_deferred (id INTEGER PRIMARY KEY,
			parent_id INTEGER REFERENCES test_deferred (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
			t.Fatalf("create test_deferred: %v", err)
		}
		for i, tc := range atCommit {
			t.Run(tc.name+" fails as the commit's error and stores nothing", func(t *testing.T) {
				id := ids(len(atCommit), "commit")[i]
				addProduct(t, tdb, id, 5)
				before := tdb.count(t, "test_outbox")
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				err := tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					if err := tx.Products().Reserve(ctx, app.StockLine{ProductID: id, Quantity: 1}); err != nil {
						return err
					}
					if err := tx.Outbox().Publish(ctx, app.Event{ID: "evt-" + id}); err != nil {
						return err
					}
					return tc.fn(ctx, cancel, tx)
				})
				if err == nil || !strings.Contains(err.Error(), "commit transaction") {
					t.Fatalf("InTx: got %v; want the commit's error", err)
				}
				assertStored(t, tdb, id, 5, 0)
				if n := tdb.count(t, "test_outbox") - before; n != 0 {
					t.Errorf("%d events survived the rollback", n)
				}
			})
		}

		t.Run("without an outbox Publish fails", func(t *testing.T) {
			store := NewStore(tdb.db, tdb.dialect, nil)
			err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				return tx.Outbox().Publish(ctx, app.Event{ID: "evt-nowhere"})
			})
			if !errors.Is(err, ErrNoOutbox) {
				t.Errorf("got %v; want ErrNoOutbox", err)
			}
		})
	})
}

// exec runs a statement of the test's own in the store's transaction.
func exec(ctx context.Context, appTx app.StoreTx, query string) error {
	_, err := appTx.(*tx).db.ExecContext(ctx, query)
	return err
}

// assertStored checks the product's stock and how many orders bought it.
func assertStored(t *testing.T, tdb *testDB, productID string, stock int64, orders int) {
	t.Helper()
	ctx := context.Background()
	p, err := tdb.store.Products().Get(ctx, productID)
	if err != nil || p.Stock() != stock {
		t.Errorf("product %s: stock %v, %v; want %d", productID, p.Stock(), err, stock)
	}
	n, err := tdb.db.NewSelect().Model((*orderItemRow)(nil)).Where("product_id = ?", productID).Count(ctx)
	if err != nil || int(n) != orders {
		t.Errorf("orders of %s: %d, %v; want %d", productID, n, err, orders)
	}
}
