package httpapi_test

import (
	"context"
	"net/http"
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
func (h *harness) awaitOrder(tok, id string, done func(orderDoc) bool) orderDoc {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o := h.getOrder(tok, id)
		if done(o) {
			return o
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("order %s did not reach the awaited state within 5 s: %+v", id, o)
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
