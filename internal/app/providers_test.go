package app_test

import (
	"context"
	"testing"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// switchDefault rebuilds the application over the same store with next as the default provider
// and the fixture's own provider still enabled, as a restart with another default would.
func (f *fixture) switchDefault(t *testing.T, next *memory.Gateway) {
	t.Helper()
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: next, Verifier: fakeVerifier{}},
		app.PaymentProvider{Gateway: f.gateway, Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.deps
	d.Providers = providers
	f.app = *app.New(d)
}

func TestOrdersFinishOnTheProviderThatOpenedThem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	next := memory.NewGateway("next")
	f.switchDefault(t, next)

	fresh := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	if fresh.Payment().Provider() != "next" || next.Created() != 1 || f.gateway.Created() != 1 {
		t.Fatalf("new order on %q; intents created: next %d, fake %d; want the new default, one each",
			fresh.Payment().Provider(), next.Created(), f.gateway.Created())
	}
	f.succeed(old) // the old provider reports the old order paid; a webhook at its route finalizes it
	f.webhook(t, "evt_old payment_intent.succeeded "+old.Payment().IntentID())
	if !f.get(t, old.ID()).Payment().IsPaid() {
		t.Fatal("the old order was not finalized through the provider that opened it")
	}
	if _, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: old.ID()}); err != nil {
		t.Fatalf("refund the old order: %v", err)
	}
	if f.gateway.Refunds() != 1 || next.Refunds() != 0 {
		t.Fatalf("refunds: fake %d, next %d; want the old order's at fake", f.gateway.Refunds(), next.Refunds())
	}
	if _, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: customer, OrderID: fresh.ID()}); err != nil {
		t.Fatalf("cancel the new order: %v", err)
	}
	if len(next.Cancelled()) != 1 || len(f.gateway.Cancelled()) != 0 {
		t.Fatalf("cancelled intents: next %v, fake %v; want the new order's at next", next.Cancelled(), f.gateway.Cancelled())
	}
}

func TestWebhookDeliveryGoesToItsProvidersVerifier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	next := memory.NewGateway("next")
	f.switchDefault(t, next)

	wantCode(t, f.app.Webhooks.Handle(ctx, "paypal", []byte("evt_1 x y"), signature("ok")), "payment_provider_not_found")
	batch := "evt_a payment_intent.processing pi_x\nevt_b customer.created none"
	if err := f.app.Webhooks.Handle(ctx, "next", []byte(batch), signature("ok")); err != nil {
		t.Fatalf("batched delivery: %v", err)
	}
	recorded, _, err := f.app.Webhooks.List(ctx, admin, app.InboxQuery{})
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
	gw := memory.NewGateway("fake")
	for name, ps := range map[string][]app.PaymentProvider{
		"none":         nil,
		"no verifier":  {{Gateway: gw}},
		"a name twice": {{Gateway: gw, Verifier: fakeVerifier{}}, {Gateway: memory.NewGateway("fake"), Verifier: fakeVerifier{}}},
		"no gateway":   {{Verifier: fakeVerifier{}}},
	} {
		if _, err := app.NewProviders(ps...); err == nil {
			t.Errorf("%s: NewProviders accepted it", name)
		}
	}
}
