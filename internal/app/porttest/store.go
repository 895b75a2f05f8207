// Package porttest owns the conformance suites of the application's ports, in the shape of
// watermill's pubsub/tests: a Features value says what an implementation promises beyond its port,
// and the suite asserts the rest identically for every implementation — the real adapters and the
// in-memory fakes the app tests run on alike. A new adapter passes its suite before it is wired in:
// RunStore (the store and its unit of work), RunOutbox (the outbox, through a store's
// transactions), RunNotifier, RunGateway and RunReactionLog.
package porttest

import (
	"context"
	"fmt"
	"testing"

	"github.com/wolfix/orders/internal/app"
)

// StoreFeatures say what a store promises beyond the port. The zero value asserts the port only.
type StoreFeatures struct {
	// BadCursor is the error Products().List and Orders().List return for a cursor the store did
	// not make (sqlstore.ErrBadCursor); nil leaves such cursors unchecked.
	BadCursor error
}

// OpenStore returns a fresh, empty store for one part of a suite, and the reader of what its
// transactions committed to their outbox.
type OpenStore func(t *testing.T) (app.Store, Committed)

// Committed returns every event that a committed transaction of the store published through
// StoreTx.Outbox, in any order.
type Committed func(t *testing.T) []app.Event

// RunStore runs the store suite: the repositories (products, orders, webhook inbox, idempotency
// keys) outside and inside transactions, races the store must decide, transactions that commit or
// roll back data and events together, and the unit of work built over the store (RunOutbox).
func RunStore(t *testing.T, open OpenStore, f StoreFeatures) {
	s := storeSuite{open: open, features: f}
	t.Run("products", s.products)
	t.Run("products race", s.productRaces)
	t.Run("orders", s.orders)
	t.Run("orders list", s.orderList)
	t.Run("orders race", s.orderRaces)
	t.Run("webhook inbox", s.inbox)
	t.Run("webhook inbox races", s.inboxRaces)
	t.Run("idempotency keys", s.idempotency)
	t.Run("transactions", s.transactions)
	t.Run("outbox", func(t *testing.T) { RunOutbox(t, open) })
}

type storeSuite struct {
	open     OpenStore
	features StoreFeatures
}

// store opens a fresh store for one part of the suite.
func (s storeSuite) store(t *testing.T) app.Store {
	t.Helper()
	store, _ := s.open(t)
	return store
}

func (s storeSuite) transactions(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	if err := store.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	p := NewProduct(t, "p-tx", 5)
	err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
		if err := tx.Products().Add(ctx, p); err != nil {
			return err
		}
		if err := tx.Products().Reserve(ctx, app.StockLine{ProductID: p.ID(), Quantity: 2}); err != nil {
			return err
		}
		o := PlaceOrder(t, OrderSpec{ID: "o-tx"}, p)
		if err := tx.Orders().Add(ctx, o); err != nil {
			return err
		}
		got, err := tx.Products().Get(ctx, p.ID())
		if err != nil || got.Stock() != 3 {
			return fmt.Errorf("the transaction reads its own product as %v, %v; want stock 3", got, err)
		}
		if id, err := tx.Orders().FindIDByIntent(ctx, "pi_o-tx"); err != nil || id != o.ID() {
			return fmt.Errorf("the transaction finds its own order as %q, %v", id, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if n, err := store.Products().Count(ctx); err != nil || n != 1 {
		t.Errorf("Count after the commit = %d, %v; want 1", n, err)
	}
}
