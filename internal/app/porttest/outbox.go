package porttest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/order"
)

// RunOutbox runs the outbox suite. An outbox exists only inside a store's transaction
// (StoreTx.Outbox), so the suite drives it through the store open returns: events published in a
// transaction commit with its data and roll back with it (on fn's error, a panic, or a caller gone
// before the commit), and the unit of work built over the store writes the events of the orders a
// transaction adds or changes without any publishing code of the use case. RunStore runs it for
// the store's own outbox; an outbox adapter runs it over a real store that writes through it.
func RunOutbox(t *testing.T, open OpenStore) {
	store, committed := open(t)
	o := outboxSuite{store: store, committed: committed}
	t.Run("a commit stores data and events together", o.commit)
	t.Run("a transaction that fails stores neither data nor events", o.rollback)
	t.Run("a panic stores neither data nor events and reaches the caller", o.panicking)
	t.Run("the unit of work writes the events of what changed", o.unitOfWork)
}

type outboxSuite struct {
	store     app.Store
	committed Committed
}

// place does what placing an order does inside its transaction: reserve the stock, store the
// order and publish its event.
func place(ctx context.Context, tx app.StoreTx, o *order.Order) error {
	for _, it := range o.Items() {
		if err := tx.Products().Reserve(ctx, app.StockLine{ProductID: it.ProductID, Quantity: it.Quantity}); err != nil {
			return err
		}
	}
	if err := tx.Orders().Add(ctx, o); err != nil {
		return err
	}
	return tx.Outbox().Publish(ctx, app.Event{ID: "evt-" + o.ID(), Type: events.TopicOrderCreated,
		OccurredAt: o.CreatedAt(), OrderID: o.ID(), Data: events.OrderData{CustomerID: o.CustomerID()}})
}

func (o outboxSuite) commit(t *testing.T) {
	ctx := context.Background()
	p := AddProduct(t, o.store, "p-commit", 5)
	placed := PlaceOrder(t, OrderSpec{ID: "o-commit"}, p)
	err := o.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
		if err := place(ctx, tx, placed); err != nil {
			return err
		}
		return tx.Outbox().Publish(ctx, app.Event{ID: "evt-o-commit-2", Type: events.TopicOrderPaid, OccurredAt: t0,
			OrderID: placed.ID()})
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	o.assertPlaced(t, placed, 4, true)
	o.assertEvents(t, placed.ID(), events.TopicOrderCreated, events.TopicOrderPaid)
}

// rollbackEndings are the ways a transaction whose work is done ends without a commit.
var rollbackEndings = []struct {
	name string
	end  func(cancel context.CancelFunc) error
}{
	{"fn's error", func(context.CancelFunc) error { return errBoom }},
	{"the caller going away before the commit", func(cancel context.CancelFunc) error {
		cancel()
		return nil
	}},
}

func (o outboxSuite) rollback(t *testing.T) {
	for i, end := range rollbackEndings {
		t.Run(end.name, func(t *testing.T) {
			id := ids(len(rollbackEndings), "rollback")[i]
			p := AddProduct(t, o.store, "p-"+id, 5)
			placed := PlaceOrder(t, OrderSpec{ID: "o-" + id}, p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := o.store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				if err := place(ctx, tx, placed); err != nil {
					return err
				}
				return end.end(cancel)
			})
			if err == nil {
				t.Fatal("InTx succeeded; want the transaction's end as an error")
			}
			o.assertPlaced(t, placed, 5, false)
			o.assertEvents(t, placed.ID())
		})
	}
}

func (o outboxSuite) panicking(t *testing.T) {
	p := AddProduct(t, o.store, "p-panic", 5)
	placed := PlaceOrder(t, OrderSpec{ID: "o-panic"}, p)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = o.store.InTx(context.Background(), func(ctx context.Context, tx app.StoreTx) error {
			if err := place(ctx, tx, placed); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	o.assertPlaced(t, placed, 5, false)
	o.assertEvents(t, placed.ID())
	if err := o.store.Ping(context.Background()); err != nil {
		t.Errorf("Ping after a panic: %v", err)
	}
}

func (o outboxSuite) unitOfWork(t *testing.T) {
	ctx := context.Background()
	uow := app.NewUnitOfWork(o.store)
	p := AddProduct(t, o.store, "p-uow", 10)
	cancel := func(id string) func(ctx context.Context, tx app.Tx) error {
		return func(ctx context.Context, tx app.Tx) error {
			_, err := tx.Orders().Update(ctx, id, func(o *order.Order) error {
				_, err := o.Cancel(true, order.CauseAdmin("a1"), t0)
				return err
			})
			return err
		}
	}

	t.Run("an added order leaves its event", func(t *testing.T) {
		placed := PlaceOrder(t, OrderSpec{ID: "o-uow-add"}, p)
		if err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error { return tx.Orders().Add(ctx, placed) }); err != nil {
			t.Fatalf("InTx: %v", err)
		}
		o.assertEvents(t, placed.ID(), events.TopicOrderCreated)
	})

	t.Run("a committed change leaves its event", func(t *testing.T) {
		placed := AddOrder(t, o.store, OrderSpec{ID: "o-uow-commit"}, p)
		if err := uow.InTx(ctx, cancel(placed.ID())); err != nil {
			t.Fatalf("InTx: %v", err)
		}
		o.assertEvents(t, placed.ID(), events.TopicOrderCancelled)
		o.assertStatus(t, placed.ID(), order.StatusCancelled)
	})

	for i, end := range rollbackEndings {
		t.Run("a change rolled back by "+end.name+" leaves no event", func(t *testing.T) {
			placed := AddOrder(t, o.store, OrderSpec{ID: ids(len(rollbackEndings), "o-uow-rollback")[i]}, p)
			ctx, stop := context.WithCancel(ctx)
			defer stop()
			err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error {
				if err := cancel(placed.ID())(ctx, tx); err != nil {
					return err
				}
				return end.end(stop)
			})
			if err == nil {
				t.Fatal("InTx succeeded; want the transaction's end as an error")
			}
			o.assertEvents(t, placed.ID())
			o.assertStatus(t, placed.ID(), order.StatusPending)
		})
	}

	t.Run("a request whose key a retry took over commits nothing", func(t *testing.T) {
		const scope, key = "customer-1 POST /api/orders", "k-uow"
		claim := func(at time.Time) app.IdempotencyRecord {
			rec, err := o.store.Idempotency().Claim(ctx, app.IdempotencyRequest{Scope: scope, Key: key, RequestHash: "h",
				Now: at, Lease: time.Second, ExpiresAt: at.Add(time.Hour)})
			if err != nil || !rec.Claimed {
				t.Fatalf("Claim at %v = %+v, %v; want it claimed", at, rec, err)
			}
			return rec
		}
		overtaken := claim(t0)
		claim(t0.Add(2 * time.Second)) // the retry takes the key over once the lease ran out
		placed := PlaceOrder(t, OrderSpec{ID: "o-uow-overtaken"}, p)
		ctx := app.WithIdempotencyClaim(ctx, &app.IdempotencyClaim{Scope: scope, Key: key, Token: overtaken.Token, ClaimedAt: t0})
		err := uow.InTx(ctx, func(ctx context.Context, tx app.Tx) error { return tx.Orders().Add(ctx, placed) })
		if !errors.Is(err, app.ErrIdempotencyClaimLost) {
			t.Fatalf("InTx: %v; want ErrIdempotencyClaimLost", err)
		}
		o.assertEvents(t, placed.ID())
		if _, err := o.store.Orders().Get(ctx, placed.ID()); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("the overtaken request's order: Get = %v; want ErrNotFound", err)
		}
	})
}

// assertPlaced checks what placing o in a transaction left: the stock of its one product and
// whether o is stored.
func (o outboxSuite) assertPlaced(t *testing.T, placed *order.Order, stock int64, stored bool) {
	t.Helper()
	ctx := context.Background()
	productID := placed.Items()[0].ProductID
	if p, err := o.store.Products().Get(ctx, productID); err != nil || p.Stock() != stock {
		t.Errorf("product %s: stock %v, %v; want %d", productID, p.Stock(), err, stock)
	}
	_, err := o.store.Orders().Get(ctx, placed.ID())
	if found := err == nil; found != stored || (err != nil && !errors.Is(err, order.ErrNotFound)) {
		t.Errorf("order %s: Get = %v; want it stored: %v", placed.ID(), err, stored)
	}
}

// assertEvents checks that the committed events of orderID are of topics (in any order).
func (o outboxSuite) assertEvents(t *testing.T, orderID string, topics ...string) {
	t.Helper()
	var got []string
	for _, ev := range o.committed(t) {
		if ev.OrderID == orderID {
			got = append(got, ev.Type)
		}
	}
	slices.Sort(got)
	slices.Sort(topics)
	if !slices.Equal(got, topics) {
		t.Errorf("committed events of %s: %v; want %v", orderID, got, topics)
	}
}

func (o outboxSuite) assertStatus(t *testing.T, orderID string, want order.Status) {
	t.Helper()
	got, err := o.store.Orders().Get(context.Background(), orderID)
	if err != nil {
		t.Errorf("order %s: %v; want it %s", orderID, err, want)
	} else if got.Status() != want {
		t.Errorf("order %s is %s; want %s", orderID, got.Status(), want)
	}
}
