package app

import (
	"context"
	"testing"

	"github.com/wolfix/orders/internal/domain/payment"
)

// switchDefault rebuilds the application over the same store with next as the default provider
// and the fixture's own provider still enabled, as a restart with another default would.
func (f *fixture) switchDefault(t *testing.T, next *fakeGateway) {
	t.Helper()
	providers, err := NewProviders(PaymentProvider{Gateway: next, Verifier: fakeVerifier{}},
		PaymentProvider{Gateway: f.gateway, Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.deps
	d.Providers = providers
	f.app = *New(d)
}

func TestOrdersFinishOnTheProviderThatOpenedThem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.place(t, payment.MethodCard, LineRequest{"p1", 1}).Order
	next := newFakeGateway()
	next.name = "next"
	f.switchDefault(t, next)

	fresh := f.place(t, payment.MethodCard, LineRequest{"p1", 1}).Order
	if fresh.Payment().Provider() != "next" || next.created != 1 || f.gateway.created != 1 {
		t.Fatalf("new order on %q; intents created: next %d, fake %d; want the new default, one each",
			fresh.Payment().Provider(), next.created, f.gateway.created)
	}
	f.succeed(old) // the old provider reports the old order paid; a webhook at its route finalizes it
	f.webhook(t, "evt_old payment_intent.succeeded "+old.Payment().IntentID())
	if !f.get(t, old.ID()).Payment().IsPaid() {
		t.Fatal("the old order was not finalized through the provider that opened it")
	}
	if _, err := f.app.Refunds.Handle(ctx, RefundOrder{Actor: admin, OrderID: old.ID()}); err != nil {
		t.Fatalf("refund the old order: %v", err)
	}
	if len(f.gateway.refunds) != 1 || len(next.refunds) != 0 {
		t.Fatalf("refunds: fake %d, next %d; want the old order's at fake", len(f.gateway.refunds), len(next.refunds))
	}
	if _, err := f.app.Cancel.Handle(ctx, CancelOrder{Actor: customer, OrderID: fresh.ID()}); err != nil {
		t.Fatalf("cancel the new order: %v", err)
	}
	if len(next.cancelled) != 1 || len(f.gateway.cancelled) != 0 {
		t.Fatalf("cancelled intents: next %v, fake %v; want the new order's at next", next.cancelled, f.gateway.cancelled)
	}
}

func TestWebhookDeliveryGoesToItsProvidersVerifier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	next := newFakeGateway()
	next.name = "next"
	f.switchDefault(t, next)

	wantCode(t, f.app.Webhooks.Handle(ctx, "paypal", []byte("evt_1 x y"), signature("ok")), "payment_provider_not_found")
	batch := "evt_a payment_intent.processing pi_x\nevt_b customer.created none"
	if err := f.app.Webhooks.Handle(ctx, "next", []byte(batch), signature("ok")); err != nil {
		t.Fatalf("batched delivery: %v", err)
	}
	recorded, _, err := f.app.Webhooks.List(ctx, admin, InboxQuery{})
	if err != nil || len(recorded) != 2 {
		t.Fatalf("inbox: %d events, %v; want the 2 of the delivery", len(recorded), err)
	}
	for _, e := range recorded {
		if e.Event.Provider != "next" {
			t.Errorf("event %s recorded from %q; want next", e.Event.ID, e.Event.Provider)
		}
	}
}

func TestNewProvidersRefusesDuplicatesAndGaps(t *testing.T) {
	gw := newFakeGateway()
	for name, ps := range map[string][]PaymentProvider{
		"none":         nil,
		"no verifier":  {{Gateway: gw}},
		"a name twice": {{Gateway: gw, Verifier: fakeVerifier{}}, {Gateway: newFakeGateway(), Verifier: fakeVerifier{}}},
		"no gateway":   {{Verifier: fakeVerifier{}}},
	} {
		if _, err := NewProviders(ps...); err == nil {
			t.Errorf("%s: NewProviders accepted it", name)
		}
	}
}
