package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	stripewebhook "github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/domain/payment"
)

// benchWebhookSecret signs the benchmark's webhooks; it protects nothing.
const benchWebhookSecret = "whsec_benchmark"

func BenchmarkWebhookToPaidSQLite(b *testing.B)   { benchWebhookToPaid(b, sqliteDB) }
func BenchmarkWebhookToPaidPostgres(b *testing.B) { benchWebhookToPaid(b, postgresDB) }

// benchWebhookToPaid takes b.N payment_intent.succeeded webhooks from receipt to Paid, one after
// another: verify and record each in the inbox (what POST /webhooks/stripe does), then one inbox
// sweep (what the woken worker does) leases it, finds the order by its intent, re-reads the intent,
// marks the order Paid with orders.paid in the outbox and the event processed. Placing, confirming
// and signing happen before the timer starts.
func benchWebhookToPaid(b *testing.B, open func(testing.TB) (*sqlstore.Store, func())) {
	events := &succeededEvents{}
	env := newBenchEnvWith(b, open, events)
	ctx := context.Background()
	cmd := env.checkout(payment.MethodCard)
	for range b.N {
		placed, err := env.app.PlaceOrder.Handle(ctx, cmd)
		if err != nil {
			b.Fatalf("place order: %v", err)
		}
		if _, err := env.gateway.Confirm(ctx, placed.Order.Payment().IntentID(), placed.ClientSecret, "4242 4242 4242 4242"); err != nil {
			b.Fatalf("confirm intent: %v", err)
		}
	}
	signed := events.signed(b)
	b.ReportAllocs()
	b.ResetTimer()
	for _, s := range signed {
		if err := env.app.Webhooks.Handle(ctx, "sandbox", s.Payload, http.Header{stripe.SignatureHeader: {s.Header}}); err != nil {
			b.Fatalf("receive webhook: %v", err)
		}
		if n, err := env.app.Webhooks.Sweep(ctx); err != nil || n != 1 {
			b.Fatalf("sweep: %d events, %v; want 1", n, err)
		}
	}
	b.StopTimer()
	reportRate(b, "payments/s")
}

// succeededEvents keeps the sandbox's payment_intent.succeeded events.
type succeededEvents struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (e *succeededEvents) Send(ev sandbox.Event) {
	if ev.Type != payment.EventIntentSucceeded {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bodies = append(e.bodies, ev.Body)
}

func (e *succeededEvents) signed(b *testing.B) []*stripewebhook.SignedPayload {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.bodies) != b.N {
		b.Fatalf("%d succeeded events for %d confirmed intents", len(e.bodies), b.N)
	}
	signed := make([]*stripewebhook.SignedPayload, 0, len(e.bodies))
	for _, body := range e.bodies {
		signed = append(signed, stripewebhook.GenerateTestSignedPayload(
			&stripewebhook.UnsignedPayload{Payload: body, Secret: benchWebhookSecret}))
	}
	return signed
}
