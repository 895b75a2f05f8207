package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// heldStore is a store whose transactions each announce themselves on entered and wait until the
// test releases them: a test holds a checkout in its database phase as long as it likes.
type heldStore struct {
	*memory.Store
	entered chan heldTx
}

// heldTx is a transaction waiting to run: its checkout's method, and what lets it run.
type heldTx struct {
	method  payment.Method
	release chan struct{}
}

func (s heldStore) InTx(ctx context.Context, fn func(ctx context.Context, tx app.StoreTx) error) error {
	tx := heldTx{method: methodOf(ctx), release: make(chan struct{})}
	s.entered <- tx
	<-tx.release
	return s.Store.InTx(ctx, fn)
}

// next is the next transaction to enter, which must be a method checkout's.
func (s heldStore) next(t *testing.T, method payment.Method) heldTx {
	t.Helper()
	var tx heldTx
	select {
	case tx = <-s.entered:
	case <-time.After(5 * time.Second):
		t.Fatalf("no transaction entered within 5 s; want a %s checkout's", method)
	}
	if tx.method != method {
		t.Fatalf("a %s checkout's transaction entered; want a %s checkout's", tx.method, method)
	}
	return tx
}

type methodKey struct{}

// methodOf is the method a test's checkout named in its context, for heldStore to announce.
func methodOf(ctx context.Context) payment.Method {
	m, _ := ctx.Value(methodKey{}).(payment.Method)
	return m
}

// withSlots rebuilds f's application with card checkouts taking turns in slots, over a store that
// holds every transaction until the test releases it.
func (f *fixture) withSlots(slots *app.CheckoutSlots) heldStore {
	held := heldStore{Store: f.store, entered: make(chan heldTx, 8)}
	f.deps.Store, f.deps.CheckoutSlots = held, slots
	f.app = *app.New(f.deps)
	return held
}

// outcome is what a checkout started by checkoutAsync ended with, waited for up to 5 s.
func outcome(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the checkout did not end within 5 s")
		return nil
	}
}

// checkoutAsync starts a checkout of one p1 and returns where its error will arrive.
func (f *fixture) checkoutAsync(method payment.Method) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx := context.WithValue(context.Background(), methodKey{}, method)
		_, err := f.app.PlaceOrder.Handle(ctx, app.PlaceOrder{Actor: customer, Recipient: recipient, Delivery: courier,
			Method: method, Lines: []app.LineRequest{{ProductID: "p1", Quantity: 1}}})
		done <- err
	}()
	return done
}

func TestCardCheckoutsTakeTurnsAtTheDatabaseAndCashCheckoutsDoNot(t *testing.T) {
	f := newFixture(t)
	slots := app.NewCheckoutSlots(app.CheckoutSlotsConfig{Slots: 1, MaxWait: time.Minute})
	held := f.withSlots(slots)

	first := f.checkoutAsync(payment.MethodCard)
	firstTx := held.next(t, payment.MethodCard)
	second := f.checkoutAsync(payment.MethodCard)
	waitFor(t, "the second card checkout waits for the slot", func() bool { return slots.Waiting() == 1 })
	if slots.Held() != 1 {
		t.Fatalf("slots held: %d; want 1", slots.Held())
	}

	cash := f.checkoutAsync(payment.MethodCash) // not held back by the card checkout's slot
	close(held.next(t, payment.MethodCash).release)
	if err := outcome(t, cash); err != nil {
		t.Fatalf("cash checkout: %v", err)
	}

	close(firstTx.release) // the first card checkout commits and gives up its slot
	if err := outcome(t, first); err != nil {
		t.Fatalf("first card checkout: %v", err)
	}
	close(held.next(t, payment.MethodCard).release)
	if err := outcome(t, second); err != nil {
		t.Fatalf("second card checkout: %v", err)
	}
	if slots.Waiting() != 0 || slots.Held() != 0 {
		t.Fatalf("after both: %d waiting, %d held; want none", slots.Waiting(), slots.Held())
	}
	if got := f.orderCount(); got != 3 {
		t.Fatalf("orders stored: %d; want 3", got)
	}
}

func TestACardCheckoutThatWaitsTooLongIsRefusedBusyAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	held := f.withSlots(app.NewCheckoutSlots(app.CheckoutSlotsConfig{Slots: 1, MaxWait: 20 * time.Millisecond}))
	first := f.checkoutAsync(payment.MethodCard)
	firstTx := held.next(t, payment.MethodCard)

	err := outcome(t, f.checkoutAsync(payment.MethodCard))
	wantCode(t, err, "checkout_busy")
	if got := f.gateway.Created(); got != 1 {
		t.Fatalf("intents opened: %d; want only the first checkout's", got)
	}

	close(firstTx.release)
	if err := outcome(t, first); err != nil {
		t.Fatalf("first card checkout: %v", err)
	}
	if got, want := f.orderCount(), 1; got != want {
		t.Fatalf("orders stored: %d; want %d", got, want)
	}
	if got := f.stock("p1"); got != 9 {
		t.Fatalf("stock of p1: %d; want 9 (the refused checkout reserved nothing)", got)
	}
}

// stalledGateway is a provider whose first intent creation tells the test it has begun, then
// waits until the test lets it go; later ones go straight through.
type stalledGateway struct {
	*memory.Gateway
	calls           *atomic.Int64
	stalled, resume chan struct{}
}

func (g stalledGateway) CreateIntent(ctx context.Context, req app.IntentRequest) (payment.Intent, error) {
	if g.calls.Add(1) == 1 {
		g.stalled <- struct{}{}
		<-g.resume
	}
	return g.Gateway.CreateIntent(ctx, req)
}

func TestAProviderCallHoldsNoCheckoutSlot(t *testing.T) {
	f := newFixture(t)
	gw := stalledGateway{Gateway: f.gateway, calls: new(atomic.Int64), stalled: make(chan struct{}), resume: make(chan struct{})}
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: gw, Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	f.deps.Providers = providers
	f.deps.CheckoutSlots = app.NewCheckoutSlots(app.CheckoutSlotsConfig{Slots: 1, MaxWait: 20 * time.Millisecond})
	f.app = *app.New(f.deps)

	first := f.checkoutAsync(payment.MethodCard)
	<-gw.stalled // the first checkout is in its provider call
	if err := outcome(t, f.checkoutAsync(payment.MethodCard)); err != nil {
		t.Fatalf("a card checkout beside a slow provider call: %v", err)
	}
	close(gw.resume)
	if err := outcome(t, first); err != nil {
		t.Fatalf("first card checkout: %v", err)
	}
}
