package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/app"
)

// runInbox runs the application's webhook inbox workers until the test ends, as serve does.
func runInbox(t testing.TB, application *app.Application) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = application.Webhooks.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
}

// postWebhook posts payload to /webhooks/stripe signed with the harness's secret and checks that
// it is acknowledged as Stripe expects: 200 {"received":true}.
func (h *harness) postWebhook(payload string) response {
	h.t.Helper()
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: webhookSecret,
		Timestamp: time.Now()}).Header
	r := h.do(request{method: http.MethodPost, path: "/webhooks/stripe", body: payload,
		header: map[string]string{"Stripe-Signature": sig}})
	if r.status != http.StatusOK || string(r.body) != `{"received":true}` {
		h.t.Fatalf("webhook: %d %s; want 200 {\"received\":true}", r.status, r.body)
	}
	return r
}

// awaitOrder polls the order until done holds (the inbox is processed in the background), for
// at most 5 s.
// awaitBound is how long awaitOrder polls: past the slowest provider a test plays (8 s), with room
// for a -race build on a loaded machine. A state reached sooner returns at once.
const awaitBound = 20 * time.Second

func (h *harness) awaitOrder(tok, id string, done func(orderDoc) bool) orderDoc {
	h.t.Helper()
	deadline := time.Now().Add(awaitBound)
	for {
		o := h.getOrder(tok, id)
		if done(o) {
			return o
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("order %s did not reach the awaited state within %s: %+v", id, awaitBound, o)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// webhookEventsPage is GET /api/admin/webhook-events.
type webhookEventsPage struct {
	Items []struct {
		ID, Type, Status, ReceivedAt                  string
		IntentID, Problem, ProcessedAt, NextAttemptAt *string
		Attempts                                      int
	}
	NextCursor *string
}

// awaitWebhookEvents polls the admin's list of events in status until it holds n, for at most 5 s.
func (h *harness) awaitWebhookEvents(adminToken, status string, n int) webhookEventsPage {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var page webhookEventsPage
		r := h.do(request{method: http.MethodGet, path: "/api/admin/webhook-events?status=" + status, token: adminToken})
		if r.status != http.StatusOK {
			h.t.Fatalf("list %s events: %d %s", status, r.status, r.body)
		}
		if r.decode(h.t, &page); len(page.Items) == n {
			return page
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s events after 5 s: %s; want %d", status, r.body, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stripe asks for a 2xx before any complex logic: the webhook is answered once the event is
// recorded, while the processing (which re-reads the intent from a provider that takes 8 s, as
// issue 12 measured) runs after it, off the request, and still pays the order.
func TestWebhookIsAnsweredBeforeASlowProviderIsAsked(t *testing.T) {
	const providerDelay = 8 * time.Second
	h := newHarnessWith(t, harnessSetup{noWebhooks: true, readDelay: providerDelay})
	pid := h.product("Desk lamp", 2500, 10)
	customer := token(t, "customer-1", app.RoleCustomer)
	id, secret := h.placeCard(customer, pid, "1")
	h.confirm(secret, "4242 4242 4242 4242")
	intentID, _, _ := strings.Cut(secret, "_secret_")
	payload := `{"id":"evt_fast_1","object":"event","type":"payment_intent.succeeded","api_version":"2023-10-16",` +
		`"created":1700000000,"data":{"object":{"id":"` + intentID + `","object":"payment_intent","amount":3200,` +
		`"currency":"usd","status":"succeeded","metadata":{"order_id":"` + id + `"}}}}`

	start := time.Now()
	h.postWebhook(payload)
	took := time.Since(start)
	if took >= 50*time.Millisecond {
		t.Errorf("the webhook took %v to answer; want < 50ms while the provider takes %v", took, providerDelay)
	}
	if o := h.getOrder(customer, id); o.PaymentStatus != "Pending" {
		t.Fatalf("payment %s as the webhook is answered; want Pending until the provider has answered", o.PaymentStatus)
	}
	o := h.awaitOrder(customer, id, func(o orderDoc) bool { return o.PaymentStatus == "Paid" })
	paid := time.Since(start)
	if paid < providerDelay || paymentSucceeded(o) != 1 {
		t.Errorf("paid after %v with %d payment.succeeded; want once, after the provider's %v", paid, paymentSucceeded(o), providerDelay)
	}
	t.Logf("webhook answered in %v; order Paid %v after it (provider read delay %v)", took, paid, providerDelay)
}
