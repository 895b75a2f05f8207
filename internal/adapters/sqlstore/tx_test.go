package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
)

func TestTransactions_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()

		t.Run("a commit stores data and events together, with one outbox per transaction", func(t *testing.T) {
			p := addProduct(t, tdb, "p-commit", 5)
			opened := tdb.outbox.openCount()
			err := tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				o := placeOrder(t, orderSpec{id: "o-commit"}, p)
				if err := placeInTx(ctx, tx, o, "evt-commit-1"); err != nil {
					return err
				}
				return tx.Outbox().Publish(ctx, app.Event{ID: "evt-commit-2"})
			})
			if err != nil {
				t.Fatalf("InTx: %v", err)
			}
			assertStored(t, tdb, "p-commit", 4, 1)
			if n := tdb.count(t, "test_outbox"); n != 2 {
				t.Errorf("%d events in the outbox; want 2", n)
			}
			if n := tdb.outbox.openCount() - opened; n != 1 {
				t.Errorf("outbox opened %d times; want once", n)
			}
		})

		failures := []struct {
			name string
			fn   func(ctx context.Context, cancel context.CancelFunc, tx app.StoreTx) error
			want error // nil: any error
			// atCommit: the error must come from COMMIT, after fn succeeded
			atCommit bool
		}{
			{"fn's error rolls everything back", func(context.Context, context.CancelFunc, app.StoreTx) error {
				return errBoom
			}, errBoom, false},
			{"a failed commit is reported and stores nothing", func(_ context.Context, cancel context.CancelFunc, _ app.StoreTx) error {
				cancel() // the client went away after the work was done; the commit must not pass
				return nil
			}, nil, true}, // context.Canceled, or sql.ErrTxDone when database/sql rolled back first
			{"a constraint checked at commit is reported and stores nothing", func(ctx context.Context, _ context.CancelFunc, tx app.StoreTx) error {
				return exec(ctx, tx, "INSERT INTO test_deferred (id, parent_id) VALUES (1, 42)")
			}, nil, true},
		}
		if _, err := tdb.db.ExecContext(ctx, `CREATE TABLE test_deferred (id INTEGER PRIMARY KEY,
			parent_id INTEGER REFERENCES test_deferred (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
			t.Fatalf("create test_deferred: %v", err)
		}
		for i, tc := range failures {
			t.Run(tc.name, func(t *testing.T) {
				id := ids(len(failures), "rollback")[i]
				p := addProduct(t, tdb, id, 5)
				before := tdb.count(t, "test_outbox")
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				err := tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					if err := placeInTx(ctx, tx, placeOrder(t, orderSpec{id: "o-" + id}, p), "evt-"+id); err != nil {
						return err
					}
					return tc.fn(ctx, cancel, tx)
				})
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Fatalf("InTx: got %v; want %v", err, tc.want)
				}
				if tc.atCommit && !strings.Contains(err.Error(), "commit transaction") {
					t.Errorf("InTx: got %v; want the commit's error", err)
				}
				assertStored(t, tdb, id, 5, 0)
				if n := tdb.count(t, "test_outbox") - before; n != 0 {
					t.Errorf("%d events survived the rollback", n)
				}
			})
		}

		t.Run("a panic rolls back and goes on", func(t *testing.T) {
			addProduct(t, tdb, "p-panic", 5)
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not reach the caller")
					}
				}()
				_ = tdb.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
					if err := tx.Products().Reserve(ctx, "p-panic", 2); err != nil {
						return err
					}
					panic("boom")
				})
			}()
			assertStored(t, tdb, "p-panic", 5, 0)
		})

		t.Run("without an outbox Publish fails", func(t *testing.T) {
			store := NewStore(tdb.db, tdb.dialect, nil)
			err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				return tx.Outbox().Publish(ctx, app.Event{ID: "evt-nowhere"})
			})
			if !errors.Is(err, ErrNoOutbox) {
				t.Errorf("got %v; want ErrNoOutbox", err)
			}
		})

		t.Run("Ping answers", func(t *testing.T) {
			if err := tdb.store.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	})
}

var errBoom = errors.New("boom")

// placeInTx does what placing an order does inside its transaction: reserve the stock, store the
// order and publish its events.
func placeInTx(ctx context.Context, tx app.StoreTx, o *order.Order, eventIDs ...string) error {
	for _, it := range o.Items() {
		if err := tx.Products().Reserve(ctx, it.ProductID, it.Quantity); err != nil {
			return err
		}
	}
	if err := tx.Orders().Add(ctx, o); err != nil {
		return err
	}
	events := make([]app.Event, 0, len(eventIDs))
	for _, id := range eventIDs {
		events = append(events, app.Event{ID: id, Type: "orders.created", OrderID: o.ID()})
	}
	return tx.Outbox().Publish(ctx, events...)
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
