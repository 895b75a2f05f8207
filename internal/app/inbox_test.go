package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// webhook delivers a payload signed "ok" and drains the inbox, as the workers would right after.
func (f *fixture) webhook(t *testing.T, payload string) {
	t.Helper()
	if err := f.app.Webhooks.Handle(context.Background(), "fake", []byte(payload), signature("ok")); err != nil {
		t.Errorf("webhook %q: %v", payload, err)
		return
	}
	if _, err := f.app.Webhooks.Sweep(context.Background()); err != nil {
		t.Errorf("sweep after %q: %v", payload, err)
	}
}

func TestWebhookIsOnlyRecordedUntilAWorkerProcessesIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	if err := f.app.Webhooks.Handle(ctx, "fake", []byte("evt_1 payment_intent.succeeded "+o.Payment().IntentID()), signature("ok")); err != nil {
		t.Fatal(err)
	}
	pending, _, err := f.app.Webhooks.List(ctx, admin, app.InboxQuery{Status: app.InboxPending})
	if err != nil || len(pending) != 1 || f.get(t, o.ID()).Payment().IsPaid() {
		t.Fatalf("after receipt: pending %+v, %v, paid %v; want the event pending, the order unpaid", pending, err,
			f.get(t, o.ID()).Payment().IsPaid())
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.app.Webhooks.Run(runCtx) }() // a start-up sweep finds what was left
	deadline := time.Now().Add(5 * time.Second)
	for !f.get(t, o.ID()).Payment().IsPaid() {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not process the recorded event within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v; want context.Canceled", err)
	}
	processed, _, _ := f.app.Webhooks.List(ctx, admin, app.InboxQuery{Status: app.InboxProcessed})
	if len(processed) != 1 || processed[0].Event.ID != "evt_1" {
		t.Errorf("processed = %+v; want evt_1", processed)
	}
}

func TestInboxLeaseKeepsOthersOffUntilItRunsOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	if err := f.app.Webhooks.Handle(ctx, "fake", []byte("evt_1 payment_intent.succeeded "+o.Payment().IntentID()), signature("ok")); err != nil {
		t.Fatal(err)
	}
	// A worker of another replica leased the event and died.
	now := f.clock.Now()
	if leased, err := f.store.Webhooks().Lease(ctx, now, now.Add(time.Minute), 10); err != nil || len(leased) != 1 {
		t.Fatalf("lease: %d, %v", len(leased), err)
	}
	if n, err := f.app.Webhooks.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("sweep during the lease took %d events (%v); want 0", n, err)
	}
	f.clock.Advance(time.Minute + time.Second)
	if n, err := f.app.Webhooks.Sweep(ctx); n != 1 || err != nil || !f.get(t, o.ID()).Payment().IsPaid() {
		t.Fatalf("sweep after the lease: %d events, %v, paid %v; want 1, paid", n, err, f.get(t, o.ID()).Payment().IsPaid())
	}
}

func TestFailedWebhookIsRetriedAfterItsBackoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	f.gateway.FailGet(app.ErrProviderUnavailable)
	f.webhook(t, "evt_1 payment_intent.succeeded "+o.Payment().IntentID())
	failed, _, _ := f.app.Webhooks.List(ctx, admin, app.InboxQuery{Status: app.InboxFailed})
	if len(failed) != 1 || failed[0].Attempts != 1 || !failed[0].LockedUntil.Equal(f.clock.Now().Add(time.Second)) {
		t.Fatalf("failed = %+v; want 1 attempt, retry in 1 s", failed)
	}
	f.gateway.FailGet(nil)
	if n, _ := f.app.Webhooks.Sweep(ctx); n != 0 {
		t.Fatalf("a sweep before the retry time took %d events; want 0", n)
	}
	f.clock.Advance(time.Second)
	if n, err := f.app.Webhooks.Sweep(ctx); n != 1 || err != nil || !f.get(t, o.ID()).Payment().IsPaid() {
		t.Fatalf("sweep at the retry time: %d, %v; want the order paid", n, err)
	}
}

func TestInboxRetryDelayDoublesUpToItsCap(t *testing.T) {
	cfg := app.InboxConfig{RetryBase: time.Second, RetryMax: 10 * time.Second}
	for attempts, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := app.InboxRetryDelay(cfg, attempts); got != want {
			t.Errorf("retryDelay(%d) = %v; want %v", attempts, got, want)
		}
	}
}

// TestWebhookIsHandedStraightToAFreeWorker delivers events while the workers run with room: each
// is recorded already leased and processed without a lease of the inbox (no sweep runs meanwhile,
// and nothing wakes one).
func TestWebhookIsHandedStraightToAFreeWorker(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	counted := &leaseCountingStore{Store: f.store}
	f.deps.Store = counted
	f.app = *app.New(f.deps)
	f.app.Webhooks.WorkWith(app.InboxConfig{Workers: 2, SweepEvery: time.Hour})
	orders := []string{}
	for range 2 {
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		f.succeed(o)
		orders = append(orders, o.ID())
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = f.app.Webhooks.Run(runCtx) }()
	waitFor(t, "the start-up sweep", func() bool { return counted.leases.Load() > 0 })
	leasesBefore := counted.leases.Load()
	for i, id := range orders {
		payload := fmt.Sprintf("evt_%d payment_intent.succeeded %s", i, f.get(t, id).Payment().IntentID())
		if err := f.app.Webhooks.Handle(ctx, "fake", []byte(payload), signature("ok")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range orders {
		waitFor(t, "order "+id+" paid", func() bool { return f.get(t, id).Payment().IsPaid() })
	}
	if n := counted.leases.Load() - leasesBefore; n != 0 {
		t.Errorf("the inbox was leased %d times for events handed to free workers; want 0", n)
	}
}

func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// leaseCountingStore counts the leases taken of its inbox.
type leaseCountingStore struct {
	app.Store
	leases atomic.Int64
}

func (s *leaseCountingStore) Webhooks() app.WebhookInbox {
	return leaseCountingInbox{WebhookInbox: s.Store.Webhooks(), leases: &s.leases}
}

type leaseCountingInbox struct {
	app.WebhookInbox
	leases *atomic.Int64
}

func (i leaseCountingInbox) Lease(ctx context.Context, now, until time.Time, limit int) ([]app.InboxEntry, error) {
	i.leases.Add(1)
	return i.WebhookInbox.Lease(ctx, now, until, limit)
}

// countingStore counts the reads of orders made outside transactions: by id (gets) and by their
// payment's intent (lookups).
type countingStore struct {
	*memory.Store
	gets, lookups *atomic.Int64
}

// countReads rebuilds f's application over a countingStore.
func (f *fixture) countReads() countingStore {
	s := countingStore{Store: f.store, gets: new(atomic.Int64), lookups: new(atomic.Int64)}
	f.deps.Store = s
	f.app = *app.New(f.deps)
	return s
}

func (s countingStore) Orders() app.OrderRepository {
	return countingOrders{OrderRepository: s.Store.Orders(), s: s}
}

type countingOrders struct {
	app.OrderRepository
	s countingStore
}

func (o countingOrders) Get(ctx context.Context, id string) (*order.Order, error) {
	o.s.gets.Add(1)
	return o.OrderRepository.Get(ctx, id)
}

func (o countingOrders) FindIDByIntent(ctx context.Context, intentID string) (string, error) {
	o.s.lookups.Add(1)
	return o.OrderRepository.FindIDByIntent(ctx, intentID)
}

func TestIntentWebhookFindsItsOrderThroughTheReReadIntent(t *testing.T) {
	f := newFixture(t)
	lookups := f.countReads().lookups
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	f.webhook(t, "evt_1 payment_intent.succeeded "+o.Payment().IntentID())
	if !f.get(t, o.ID()).Payment().IsPaid() {
		t.Fatal("the webhook did not mark the order paid")
	}
	if n := lookups.Load(); n != 0 {
		t.Fatalf("%d lookups of the order by its intent before the transaction; want 0: the re-read intent names it", n)
	}
	f.webhook(t, "evt_2 charge.refunded "+o.Payment().IntentID())
	if n := lookups.Load(); n != 1 {
		t.Fatalf("a refund event made %d lookups by intent; want 1", n)
	}
}
