package app_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// recordingObserver keeps what the use cases reported, one line per call.
type recordingObserver struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingObserver) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recordingObserver) PaymentSettled(provider, outcome string) {
	r.add("payment %s %s", provider, outcome)
}

func (r *recordingObserver) RefundSettled(currency string, amountMinor int64, outcome string) {
	r.add("refund %s %d %s", currency, amountMinor, outcome)
}

func (r *recordingObserver) ReconcilerActed(kind string) { r.add("reconciler %s", kind) }

func (r *recordingObserver) WebhookHandled(eventType, outcome string) {
	r.add("webhook %s %s", eventType, outcome)
}

// take returns the calls since the last take.
func (r *recordingObserver) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

func expectCalls(t *testing.T, obs *recordingObserver, step string, want ...string) {
	t.Helper()
	if got := obs.take(); !slices.Equal(got, want) {
		t.Errorf("%s: observer heard %q; want %q", step, got, want)
	}
}

// The observer hears each change once, after it committed, and nothing for repeats or no-ops.
func TestObserverHearsWhatChangedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.gateway.Set(o.Payment().IntentID(), func(in *payment.Intent) { in.LastErrorCode = "card_declined" })
	f.webhook(t, "evt_1 payment_intent.payment_failed "+o.Payment().IntentID())
	expectCalls(t, f.observed, "declined", "payment fake failed", "webhook payment_intent.payment_failed processed")

	f.succeed(o)
	f.webhook(t, "evt_2 payment_intent.succeeded "+o.Payment().IntentID())
	f.webhook(t, "evt_3 payment_intent.succeeded "+o.Payment().IntentID())
	f.webhook(t, "evt_4 customer.created none")
	expectCalls(t, f.observed, "paid, then a repeat and a stranger", "payment fake paid",
		"webhook payment_intent.succeeded processed", "webhook payment_intent.succeeded processed",
		"webhook customer.created ignored")

	if _, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount("100.00")}); err != nil {
		t.Fatal(err)
	}
	f.gateway.FailRefund(app.ErrProviderRejected)
	if _, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount("1.00")}); err == nil {
		t.Fatal("a refund the provider rejected succeeded")
	}
	expectCalls(t, f.observed, "refunds", "refund USD 10000 succeeded", "refund USD 100 failed")

	odd := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.gateway.Set(odd.Payment().IntentID(), func(in *payment.Intent) { in.Status = payment.IntentSucceeded; in.Amount-- })
	if _, err := f.app.Finalizer.Finalize(ctx, odd.ID(), order.CauseReconciler); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, f.observed, "anomaly", "payment fake anomaly")
}

func TestObserverHearsTheReconcilersRepairs(t *testing.T) {
	f := newFixture(t)
	lost := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(lost) // its webhook never arrives
	f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p2", Quantity: 1})

	f.clock.Advance(6 * time.Minute)
	if _, err := f.app.Reconciler.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, f.observed, "first pass", "payment fake paid", "reconciler payment_settled")
	f.clock.Advance(30 * time.Minute)
	if _, err := f.app.Reconciler.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, f.observed, "second pass", "reconciler order_expired")
}
