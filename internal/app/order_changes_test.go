package app_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// awaitResult is what one Await call answered, and how long it took.
type awaitResult struct {
	order *order.Order
	err   error
	took  time.Duration
}

// startAwait runs Await in the background and returns once its waiter is subscribed, so that a
// change the test makes next happens while it waits.
func (f *fixture) startAwait(t *testing.T, ctx context.Context, actor app.Actor, o *order.Order, wait time.Duration) <-chan awaitResult {
	t.Helper()
	done := make(chan awaitResult, 1)
	go func() {
		start := time.Now()
		got, err := f.app.Orders.Await(ctx, actor, o.ID(), []int64{o.Version()}, wait)
		done <- awaitResult{got, err, time.Since(start)}
	}()
	for deadline := time.Now().Add(5 * time.Second); f.app.Orders.Changes().Watching() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the waiter never subscribed")
		}
		time.Sleep(time.Millisecond)
	}
	return done
}

// result waits for an Await started by startAwait, for at most 10 s.
func (f *fixture) result(t *testing.T, done <-chan awaitResult) awaitResult {
	t.Helper()
	select {
	case r := <-done:
		if left := f.app.Orders.Changes().Watching(); left != 0 {
			t.Errorf("%d waiters still subscribed after Await returned", left)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Await did not return within 10s")
		return awaitResult{}
	}
}

// pending places a card order not yet paid and returns it as stored.
func (f *fixture) pending(t *testing.T) *order.Order {
	t.Helper()
	return f.get(t, f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order.ID())
}

func TestAwaitWakesOnACommittedChange(t *testing.T) {
	f := newFixture(t)
	f.app.Orders.RereadEvery(time.Hour) // only the commit's notification can wake it in time
	o := f.pending(t)
	done := f.startAwait(t, context.Background(), customer, o, 10*time.Second)
	f.succeed(o)
	if err := f.app.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: customer, OrderID: o.ID()}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	r := f.result(t, done)
	if r.err != nil || r.order.Version() == o.Version() || !r.order.Payment().IsPaid() {
		t.Fatalf("Await = %v, %v; want the order Paid at a new version (was %d)", r.order, r.err, o.Version())
	}
}

// A waiter takes the order its commit handed over, as a read would return it, and reads nothing.
func TestAwaitTakesTheCommittedOrderWithoutReadingIt(t *testing.T) {
	f := newFixture(t)
	gets := f.countReads().gets
	f.app.Orders.RereadEvery(time.Hour)
	o := f.pending(t)
	done := f.startAwait(t, context.Background(), customer, o, 10*time.Second)
	f.succeed(o)
	before := gets.Load()
	f.webhook(t, "evt_1 payment_intent.succeeded "+o.Payment().IntentID()) // reads no order outside its transaction
	r := f.result(t, done)
	if r.err != nil || !r.order.Payment().IsPaid() {
		t.Fatalf("Await = %v, %v; want the order Paid", r.order, r.err)
	}
	if n := gets.Load() - before; n != 0 {
		t.Errorf("the waiter read the order %d times after the commit; want 0: the commit handed it over", n)
	}
	if stored := f.get(t, o.ID()); !reflect.DeepEqual(r.order.Snapshot(), stored.Snapshot()) {
		t.Errorf("handed over:\n%+v\nstored:\n%+v", r.order.Snapshot(), stored.Snapshot())
	}
}

// A wait that a commit of this process ends reads the order whole not even once: it glances at
// the order before waiting, and takes the order the commit hands over.
func TestAwaitEndedByACommitReadsNoWholeOrder(t *testing.T) {
	f := newFixture(t)
	gets := f.countReads().gets
	f.app.Orders.RereadEvery(time.Hour)
	o := f.pending(t)
	before := gets.Load()
	done := f.startAwait(t, context.Background(), customer, o, 10*time.Second)
	f.succeed(o)
	f.webhook(t, "evt_1 payment_intent.succeeded "+o.Payment().IntentID())
	if r := f.result(t, done); r.err != nil || !r.order.Payment().IsPaid() {
		t.Fatalf("Await = %v, %v; want the order Paid", r.order, r.err)
	}
	if n := gets.Load() - before; n != 0 {
		t.Errorf("the wait read the whole order %d times; want 0", n)
	}
}

// PATCH /paid on an order already paid reads the order whole not even once.
func TestConfirmingAPaidOrderReadsNoWholeOrder(t *testing.T) {
	f := newFixture(t)
	gets := f.countReads().gets
	o := f.pending(t)
	f.succeed(o)
	confirm := app.ConfirmPaid{Actor: customer, OrderID: o.ID()}
	if err := f.app.ConfirmPaid.Handle(context.Background(), confirm); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	before := gets.Load()
	if err := f.app.ConfirmPaid.Handle(context.Background(), confirm); err != nil {
		t.Fatalf("confirm again: %v", err)
	}
	if n := gets.Load() - before; n != 0 {
		t.Errorf("confirming a paid order read it whole %d times; want 0", n)
	}
	if err := f.app.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: stranger, OrderID: o.ID()}); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("another customer's confirm: %v; want order.ErrNotFound", err)
	}
}

// PATCH /paid on a card order not yet paid, and the reconciler's Finalize, learn the order's intent
// from a glance: the order is read whole only under its lock, inside the transaction that settles
// it. A cash order is refused before any provider is asked.
func TestFinalizingReadsTheOrderWholeOnlyUnderItsLock(t *testing.T) {
	f := newFixture(t)
	gets := f.countReads().gets
	confirmed, reconciled := f.pending(t), f.pending(t)
	f.succeed(confirmed)
	f.succeed(reconciled)
	before := gets.Load()
	if err := f.app.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: customer, OrderID: confirmed.ID()}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if _, err := f.app.Finalizer.Finalize(context.Background(), reconciled.ID(), order.CauseReconciler); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if n := gets.Load() - before; n != 0 {
		t.Errorf("settling two orders read them whole %d times outside their transactions; want 0", n)
	}
	for _, o := range []*order.Order{confirmed, reconciled} {
		if got := f.get(t, o.ID()).Payment().Status(); got != payment.StatusPaid {
			t.Errorf("order %s: payment %s; want paid", o.ID(), got)
		}
	}
	cash := f.place(t, payment.MethodCash, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	if _, err := f.app.Finalizer.Finalize(context.Background(), cash.ID(), order.CauseReconciler); !errors.Is(err, payment.ErrNotCard) {
		t.Errorf("finalizing a cash order: %v; want payment.ErrNotCard", err)
	}
}

// Of the orders handed to a waiter before it takes one, it gets the newest; a change known only
// by its id makes it read the order again.
func TestHubKeepsTheNewestOrderForAWaiter(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	hub := f.app.Orders.Changes()
	changed, stop := hub.Watch(o.ID())
	defer stop()
	newer, older := versioned(o, 3), versioned(o, 2)
	hub.Committed(newer)
	hub.Committed(older)
	if got := <-changed; got == nil || got.Version() != 3 {
		t.Fatalf("took %v; want the newest order told, version 3", got)
	}
	hub.Committed(newer)
	hub.Notify(o.ID())
	if got := <-changed; got != nil {
		t.Fatalf("took version %d; want nil (read again) after a change known only by id", got.Version())
	}
}

// versioned returns o at version v.
func versioned(o *order.Order, v int64) *order.Order {
	s := o.Snapshot()
	s.Version = v
	return order.Restore(s)
}

func TestAwaitIsNotWokenByARolledBackChange(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	changed, stop := f.app.Orders.Changes().Watch(o.ID())
	defer stop()
	f.succeed(o)
	confirm := func() error {
		return f.app.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: customer, OrderID: o.ID()})
	}
	f.store.FailNextCommit(errors.New("disk full"))
	if err := confirm(); err == nil {
		t.Fatal("confirm succeeded although its commit failed")
	}
	select { // the unit of work notifies before InTx returns: a signal would be here already
	case <-changed:
		t.Fatal("a rolled-back transaction woke the waiter")
	default:
	}
	if got := f.get(t, o.ID()); got.Version() != o.Version() {
		t.Fatalf("version = %d after the rollback; want %d", got.Version(), o.Version())
	}
	if err := confirm(); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("the committed change did not wake the waiter")
	}
}

func TestAwaitAnswersNotModifiedWhenTheWaitRunsOut(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	const wait = 150 * time.Millisecond
	r := f.result(t, f.startAwait(t, context.Background(), customer, o, wait))
	if r.err != nil || r.order.Version() != o.Version() {
		t.Fatalf("Await = %v, %v; want the order unchanged (not modified)", r.order, r.err)
	}
	if r.took < wait {
		t.Fatalf("Await returned after %s; want it to hold for the wait, %s", r.took, wait)
	}
}

func TestAwaitEndsWithItsContext(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	ctx, hangUp := context.WithCancel(context.Background())
	done := f.startAwait(t, ctx, customer, o, app.MaxOrderWait)
	hangUp()
	r := f.result(t, done)
	if r.order != nil || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Await = %v, %v; want its context's error: nobody is left to answer", r.order, r.err)
	}
	if r.took > 5*time.Second {
		t.Fatalf("Await took %s after its context ended; want it to return at once", r.took)
	}
}

func TestEndWaitsReleasesTheWaitersForAShutdown(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	done := f.startAwait(t, context.Background(), customer, o, app.MaxOrderWait)
	f.app.Orders.EndWaits()
	r := f.result(t, done)
	if r.err != nil || r.order.Version() != o.Version() || r.took > 5*time.Second {
		t.Fatalf("Await = %v, %v after %s; want the order as last read, at once", r.order, r.err, r.took)
	}
	start := time.Now()
	got, err := f.app.Orders.Await(context.Background(), customer, o.ID(), []int64{o.Version()}, app.MaxOrderWait)
	if err != nil || got.Version() != o.Version() || time.Since(start) > 5*time.Second {
		t.Fatalf("Await after EndWaits = %v, %v after %s; want the order at once", got, err, time.Since(start))
	}
	f.app.Orders.EndWaits() // twice is harmless
}

// TestAwaitSeesAChangeAnotherReplicaCommitted: a change committed by another process (here
// another application over the same store, with a hub of its own) never notifies this one; the
// waiter finds it by re-reading.
func TestAwaitSeesAChangeAnotherReplicaCommitted(t *testing.T) {
	f := newFixture(t)
	f.app.Orders.RereadEvery(20 * time.Millisecond)
	o := f.pending(t)
	done := f.startAwait(t, context.Background(), customer, o, 10*time.Second)
	other := app.New(f.deps)
	f.succeed(o)
	if err := other.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: customer, OrderID: o.ID()}); err != nil {
		t.Fatalf("confirm on the other replica: %v", err)
	}
	r := f.result(t, done)
	if r.err != nil || !r.order.Payment().IsPaid() {
		t.Fatalf("Await = %v, %v; want the order Paid", r.order, r.err)
	}
}

func TestAwaitAnswersAtOnce(t *testing.T) {
	f := newFixture(t)
	o := f.pending(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		known []int64
		wait  time.Duration
	}{
		{"without a known version", nil, app.MaxOrderWait},
		{"without a wait", []int64{o.Version()}, 0},
		{"when the known version is not the order's", []int64{o.Version() + 7}, app.MaxOrderWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			got, err := f.app.Orders.Await(ctx, customer, o.ID(), tc.known, tc.wait)
			if err != nil || got.ID() != o.ID() || time.Since(start) > 5*time.Second {
				t.Fatalf("Await = %v, %v after %s; want the order at once", got, err, time.Since(start))
			}
		})
	}
	t.Run("to a stranger the order does not exist, and nobody waits", func(t *testing.T) {
		_, err := f.app.Orders.Await(ctx, stranger, o.ID(), []int64{o.Version()}, app.MaxOrderWait)
		wantCode(t, err, "order_not_found")
		if n := f.app.Orders.Changes().Watching(); n != 0 {
			t.Fatalf("%d waiters left subscribed", n)
		}
	})
	t.Run("a seller may not read it", func(t *testing.T) {
		_, err := f.app.Orders.Await(ctx, seller, o.ID(), []int64{o.Version()}, app.MaxOrderWait)
		if err == nil {
			t.Fatal("a seller read a customer's order")
		}
	})
	for _, wait := range []time.Duration{-time.Second, app.MaxOrderWait + time.Second} {
		_, err := f.app.Orders.Await(ctx, customer, o.ID(), []int64{o.Version()}, wait)
		wantCode(t, err, "wait_invalid")
	}
}

func TestOrderChangesIsBoundedAndNeverBlocks(t *testing.T) {
	h := app.NewOrderChanges()
	stops := make([]func(), 0, app.MaxOrderWatchers)
	for range app.MaxOrderWatchers {
		ch, stop := h.Watch("o1")
		if ch == nil {
			t.Fatalf("waiter %d refused; want %d accepted", len(stops)+1, app.MaxOrderWatchers)
		}
		stops = append(stops, stop)
	}
	if ch, stop := h.Watch("o2"); ch != nil {
		stop()
		t.Fatal("a waiter past MaxOrderWatchers was subscribed")
	}
	h.Notify("o1", "o1", "o1") // nobody reads: the signals merge, nothing blocks
	for _, stop := range stops {
		stop()
		stop() // twice is harmless
	}
	if n := h.Watching(); n != 0 {
		t.Fatalf("%d waiters left after every stop", n)
	}
	var none *app.OrderChanges
	ch, stop := none.Watch("o1")
	none.Notify("o1")
	stop()
	if ch != nil {
		t.Fatal("a nil hub handed out a channel")
	}
}
