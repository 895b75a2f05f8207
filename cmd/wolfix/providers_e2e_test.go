package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

// TestE2EOrdersFinishOnTheProviderThatOpenedThem opens a card order on the sandbox, restarts the
// service with Stripe (stripe-mock) as the default and the sandbox still enabled, and shows that
// the old order still finalizes and refunds through the sandbox while a new order goes to Stripe;
// each provider's webhooks are taken at its own route and refused at the other's.
func TestE2EOrdersFinishOnTheProviderThatOpenedThem(t *testing.T) {
	proxy := newStripeProxy(t, testenv.StripeMockURL(t))
	dataDir := t.TempDir() // one SQLite database and JWT secret across the restart
	before := startService(t, "WOLFIX_DATA_DIR="+dataDir, "WOLFIX_PAYMENT_PROVIDER=sandbox")
	cust, adm := before.token("providers-cust", "customer"), before.token("providers-admin", "admin")
	p := before.pickProduct(1)
	opened := before.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
	before.expect(opened, http.StatusCreated, "")
	oldID, oldSecret := opened.body["orderId"].(string), opened.body["clientSecret"].(string)
	before.stop()

	s := startService(t, append(stripeEnv(proxy.URL()), "WOLFIX_DATA_DIR="+dataDir,
		"WOLFIX_PAYMENT_PROVIDER=stripe", "WOLFIX_PAYMENT_PROVIDERS=sandbox,stripe")...)
	if cfg := s.do(http.MethodGet, "/api/config", "", nil); cfg.body["provider"] != "stripe" {
		t.Fatalf("/api/config = %s; want the default provider stripe", cfg.raw)
	}

	t.Run("the sandbox order finalizes and refunds through the sandbox", func(t *testing.T) {
		// Paid within waitBound, long before the reconciler's first look: the sandbox's event, signed
		// with its own secret, was taken at /webhooks/sandbox (Stripe's route would refuse it).
		s.expect(s.confirmCard(oldSecret, cardOK), http.StatusOK, "")
		o := s.waitOrder(oldID, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
		if pay := o["payment"].(map[string]any); pay["provider"] != "sandbox" {
			t.Fatalf("payment = %v; want the sandbox's", pay)
		}
		r := s.do(http.MethodPost, "/api/orders/"+oldID+"/refunds", adm, `{"reason":"returned"}`)
		s.expect(r, http.StatusCreated, "")
		if r.body["status"] != "succeeded" {
			t.Fatalf("refund = %s; want succeeded at the sandbox", r.raw)
		}
		s.waitOrder(oldID, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Refunded" })
		if n := len(proxy.creates()); n != 0 {
			t.Fatalf("stripe-mock saw %d intents created; the sandbox order must not reach Stripe", n)
		}
	})

	var newIntent string
	t.Run("a new order goes to Stripe", func(t *testing.T) {
		r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
		s.expect(r, http.StatusCreated, "")
		creates := proxy.creates()
		if len(creates) != 1 || creates[0].status != http.StatusOK {
			t.Fatalf("stripe-mock saw %d intents created; want 1 answered 200", len(creates))
		}
		newIntent, _ = creates[0].response["id"].(string)
		o := s.do(http.MethodGet, "/api/orders/"+r.body["orderId"].(string), cust, nil)
		if pay, _ := o.body["payment"].(map[string]any); pay["provider"] != "stripe" || newIntent == "" || pay["intentId"] != newIntent {
			t.Fatalf("order = %s; want a stripe payment on stripe-mock's intent %q", o.raw, newIntent)
		}
	})

	t.Run("each provider's webhooks are taken at its own route only", func(t *testing.T) {
		now := time.Now()
		body := fmt.Sprintf(`{"id":"evt_e2e_providers_%d","object":"event","api_version":%q,"created":%d,"type":"payment_intent.processing",`+
			`"data":{"object":{"id":%q,"object":"payment_intent"}}}`, now.UnixNano(), stripeAPIVersion, now.Unix(), newIntent)
		signed := stripeSignature(e2eStripeWebhook, now, body)
		s.expect(s.do(http.MethodPost, "/webhooks/sandbox", "", body, "Stripe-Signature", signed), http.StatusBadRequest, "webhook_signature_invalid")
		s.expect(s.do(http.MethodPost, "/webhooks/paypal", "", body, "Stripe-Signature", signed), http.StatusNotFound, "payment_provider_not_found")
		r := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", signed)
		s.expect(r, http.StatusOK, "")
		if r.body["received"] != true {
			t.Fatalf("got %s; want {\"received\":true}", r.raw)
		}
	})
}
