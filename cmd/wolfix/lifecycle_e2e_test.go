package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The payment lifecycle of issue 5, through the real binary on SQLite and on PostgreSQL: duplicate
// and out-of-order webhooks, the webhook racing PATCH /paid, events that do not match, refunds
// with restock, and rule violations that must change nothing. Webhooks are signed with the test
// secret, exactly as Stripe signs them.

// lifecycleEnv makes the service verify (and the sandbox sign) with the test webhook secret, and
// lets one customer place the many orders some tests need (volumeEnv).
var lifecycleEnv = slices.Clip(append([]string{"WOLFIX_STRIPE_WEBHOOK_SECRET=" + testWebhookSecret}, volumeEnv...))

// lcWait is how long a test waits for background work (sandbox deliveries) under -race on a
// loaded machine; it is a deadline, never a sleep.
const lcWait = 15 * time.Second

// newProduct creates a product of seller-lc with the given price (minor units) and stock.
func (s *service) newProduct(priceMinor, stock int64) product {
	s.t.Helper()
	r := s.do(http.MethodPost, "/api/products", s.token("seller-lc", "seller"), map[string]any{
		"title": fmt.Sprintf("Lifecycle item %d", time.Now().UnixNano()), "price": json.Number(fmt.Sprintf("%d.%02d", priceMinor/100, priceMinor%100)),
		"currency": "USD", "stock": stock})
	s.expect(r, http.StatusCreated, "")
	return product{id: r.body["id"].(string), price: priceMinor, stock: stock}
}

// cardOrder places a card order and returns its id, client secret and intent id.
func (s *service) cardOrder(tok, productID string, qty int) (id, secret, intent string) {
	s.t.Helper()
	r := s.do(http.MethodPost, "/api/orders/with-payment", tok, orderBody(productID, qty))
	s.expect(r, http.StatusCreated, "")
	secret = r.body["clientSecret"].(string)
	intent, _, _ = strings.Cut(secret, "_secret_")
	return r.body["orderId"].(string), secret, intent
}

// paidCardOrder places a card order, pays it with the good card, and waits until it is Paid.
func (s *service) paidCardOrder(tok, productID string, qty int) (id, intent string) {
	s.t.Helper()
	id, secret, intent := s.cardOrder(tok, productID, qty)
	s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
	s.awaitOrder(id, tok, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
	return id, intent
}

// awaitOrder polls the order until check passes, for at most lcWait.
func (s *service) awaitOrder(id, tok string, check func(o map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(lcWait)
	var last reply
	for time.Now().Before(deadline) {
		last = s.do(http.MethodGet, "/api/orders/"+id, tok, nil)
		if last.status == http.StatusOK && check(last.body) {
			return last.body
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("order %s did not reach the expected state within %s: %s", id, lcWait, last.raw)
	return nil
}

// awaitLog polls the service's output until a line holds every one of parts.
func (s *service) awaitLog(parts ...string) {
	s.t.Helper()
	deadline := time.Now().Add(lcWait)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if containsAll(line, parts) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("no log line with %q within %s", parts, lcWait)
}

func containsAll(line string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(line, p) {
			return false
		}
	}
	return true
}

// timelineCount counts the order's timeline entries of type typ.
func timelineCount(o map[string]any, typ string) int {
	n := 0
	entries, _ := o["timeline"].([]any)
	for _, e := range entries {
		if e.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

// intentEvent renders a Stripe payment_intent.* event for intent.
func intentEvent(eventID, typ, intent, orderID string, amountMinor int64, status string) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","type":%q,"api_version":"2023-10-16","created":%d,`+
		`"data":{"object":{"id":%q,"object":"payment_intent","amount":%d,"amount_received":%d,"currency":"usd",`+
		`"status":%q,"metadata":{"order_id":%q}}}}`, eventID, typ, time.Now().Unix(), intent, amountMinor, amountMinor, status, orderID)
}

// chargeRefundedEvent renders a Stripe charge.refunded event for intent.
func chargeRefundedEvent(eventID, intent string, amountMinor int64) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","type":"charge.refunded","api_version":"2023-10-16","created":%d,`+
		`"data":{"object":{"id":"ch_%s","object":"charge","amount":%d,"amount_refunded":%d,"currency":"usd",`+
		`"payment_intent":%q,"refunded":true,"status":"succeeded"}}}`, eventID, time.Now().Unix(), eventID, amountMinor, amountMinor, intent)
}

// send performs one request with a string body ("" = none) and returns its status and body;
// safe from any goroutine (no t.Fatal).
func (s *service) send(method, path, token, body string, headers ...string) (int, []byte, error) {
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	status, _, raw, err := s.roundTrip(method, path, token, rdr, headers...)
	return status, raw, err
}

// webhook POSTs body to /webhooks/stripe, freshly signed with the test secret.
func (s *service) webhook(body string) (int, []byte, error) {
	return s.send(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", stripeSignature(testWebhookSecret, time.Now(), body))
}

// mustWebhook delivers body and requires 200 {"received": true}.
func (s *service) mustWebhook(body string) {
	s.t.Helper()
	status, raw, err := s.webhook(body)
	if err != nil || status != http.StatusOK || !bytes.Contains(raw, []byte(`"received":true`)) {
		s.t.Fatalf("webhook: %d %s %v", status, raw, err)
	}
}

// awaitWebhookEvent polls the admin's inbox list until eventID is in status (the service answers
// a webhook once it is recorded and processes it right after), for at most 10 s, and returns it.
func (s *service) awaitWebhookEvent(adminToken, eventID, status string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.do(http.MethodGet, "/api/admin/webhook-events?limit=100&status="+status, adminToken, nil)
		s.expect(r, http.StatusOK, "")
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			if ev, _ := it.(map[string]any); ev["id"] == eventID {
				return ev
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("webhook event %s is not %s after 10 s: %s", eventID, status, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitInboxDrained polls until no webhook event waits to be processed, for at most 10 s, and
// requires that none failed.
func (s *service) awaitInboxDrained(adminToken string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.do(http.MethodGet, "/api/admin/webhook-events?status=pending", adminToken, nil)
		s.expect(r, http.StatusOK, "")
		if items, _ := r.body["items"].([]any); len(items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("webhook events still pending after 10 s: %s", r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := s.do(http.MethodGet, "/api/admin/webhook-events?status=failed", adminToken, nil)
	if items, _ := r.body["items"].([]any); r.status != http.StatusOK || len(items) != 0 {
		s.t.Fatalf("failed webhook events: %d %s", r.status, r.raw)
	}
}

// Issue 5 (1): the same payment_intent.succeeded delivered 10 times at once, then once more
// after a payment_intent.payment_failed for the same intent: Paid once, one payment.succeeded.
func TestE2ELifecycleDuplicateWebhooks(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust := s.token("cust-lc", "customer")
		p := s.newProduct(2500, 10)
		id, secret, intent := s.cardOrder(cust, p.id, 2)
		total := 2*p.price + courierFeeMinor
		s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")

		// The sandbox delivers nothing here: our 10 copies are the only news of the payment.
		succeeded := intentEvent("evt_lc_dup_"+id, "payment_intent.succeeded", intent, id, total, "succeeded")
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, raw, err := s.webhook(succeeded); err != nil || status != http.StatusOK {
					errs <- fmt.Errorf("duplicate delivery: %d %s %v", status, raw, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// a receipt is answered before the event is processed: the failure must come late, after
		// the success was processed, or its own processing may settle the order first
		adm := s.token("admin-lc", "admin")
		s.awaitWebhookEvent(adm, "evt_lc_dup_"+id, "processed")
		s.mustWebhook(intentEvent("evt_lc_failed_"+id, "payment_intent.payment_failed", intent, id, total, "requires_payment_method"))
		s.mustWebhook(succeeded)
		s.awaitWebhookEvent(adm, "evt_lc_failed_"+id, "processed")

		o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body
		if o["status"] != "Confirmed" || o["paymentStatus"] != "Paid" {
			t.Fatalf("order %v/%v; want Confirmed/Paid", o["status"], o["paymentStatus"])
		}
		if n := timelineCount(o, "payment.succeeded"); n != 1 {
			t.Fatalf("%d payment.succeeded entries; want exactly 1: %v", n, o["timeline"])
		}
		if n := timelineCount(o, "payment.failed"); n != 0 {
			t.Fatalf("the late payment_failed left %d payment.failed entries; want 0", n)
		}
		if n := timelineCount(o, "order.confirmed"); n != 1 {
			t.Fatalf("%d order.confirmed entries; want 1", n)
		}
		for _, e := range o["timeline"].([]any) {
			if e := e.(map[string]any); e["type"] == "payment.succeeded" && e["cause"] != "webhook evt_lc_dup_"+id {
				t.Fatalf("payment.succeeded caused by %v; want webhook evt_lc_dup_%s", e["cause"], id)
			}
		}
	}, append(lifecycleEnv, "WOLFIX_SANDBOX_WEBHOOKS=false")...)
}

// Issue 5 (2): for 100 orders, the webhook and the customer's PATCH /paid race (and the sandbox's
// own delivery with them): every order ends Paid exactly once.
func TestE2ELifecycleWebhookRacesPatchPaid(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		const orders = 100
		cust := s.token("cust-race", "customer")
		p := s.newProduct(1000, orders)
		type placedOrder struct{ id, secret, intent string }
		all := make([]placedOrder, orders)
		for i := range all {
			all[i].id, all[i].secret, all[i].intent = s.cardOrder(cust, p.id, 1)
		}
		total := p.price + courierFeeMinor

		var failures atomic.Int32
		var mu sync.Mutex
		report := func(format string, args ...any) {
			failures.Add(1)
			mu.Lock()
			defer mu.Unlock()
			t.Errorf(format, args...)
		}
		work := make(chan placedOrder)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for o := range work {
					confirm := fmt.Sprintf(`{"clientSecret":%q,"cardNumber":%q}`, o.secret, cardOK)
					if status, raw, err := s.send(http.MethodPost, "/sandbox/payment-intents/"+o.intent+"/confirm", "", confirm); err != nil || status != http.StatusOK {
						report("confirm %s: %d %s %v", o.id, status, raw, err)
						continue
					}
					var race sync.WaitGroup
					race.Add(2)
					go func() {
						defer race.Done()
						ev := intentEvent("evt_race_"+o.id, "payment_intent.succeeded", o.intent, o.id, total, "succeeded")
						if status, raw, err := s.webhook(ev); err != nil || status != http.StatusOK {
							report("webhook %s: %d %s %v", o.id, status, raw, err)
						}
					}()
					go func() {
						defer race.Done()
						if status, raw, err := s.send(http.MethodPatch, "/api/orders/"+o.id+"/paid", cust, ""); err != nil || status != http.StatusNoContent {
							report("PATCH /paid %s: %d %s %v", o.id, status, raw, err)
						}
					}()
					race.Wait()
				}
			}()
		}
		for _, o := range all {
			work <- o
		}
		close(work)
		wg.Wait()
		if failures.Load() > 0 {
			t.FailNow()
		}
		s.awaitInboxDrained(s.token("admin-race", "admin")) // the webhooks' side of the race has run
		for _, o := range all {
			got := s.do(http.MethodGet, "/api/orders/"+o.id, cust, nil).body
			if got["paymentStatus"] != "Paid" || got["status"] != "Confirmed" {
				t.Fatalf("order %s is %v/%v; want Confirmed/Paid", o.id, got["status"], got["paymentStatus"])
			}
			if n := timelineCount(got, "payment.succeeded"); n != 1 {
				t.Fatalf("order %s has %d payment.succeeded entries; want 1: %v", o.id, n, got["timeline"])
			}
		}
		if got := s.stockOf(p.id); got != 0 {
			t.Fatalf("stock = %d; want 0", got)
		}
	}, lifecycleEnv...)
}

// Issue 5 (3), as far as the binary can show it: a correctly signed event is still not believed.
// The service re-reads the intent from the provider (the sandbox), so an event that claims a
// success the provider does not report, names another order in its metadata, or carries another
// amount never marks anything Paid. (An intent the provider itself reports as succeeded for
// another order or amount is TestMismatchedIntentNeverMarksPaid in internal/adapters/httpapi.)
func TestE2ELifecycleEventsThatDoNotMatch(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust := s.token("cust-lc", "customer")
		p := s.newProduct(2500, 10)
		idA, secretA, intentA := s.cardOrder(cust, p.id, 1)
		idB, _, intentB := s.cardOrder(cust, p.id, 1)
		total := p.price + courierFeeMinor

		s.mustWebhook(intentEvent("evt_lc_claim_"+idA, "payment_intent.succeeded", intentA, idA, total, "succeeded"))
		s.mustWebhook(intentEvent("evt_lc_amount_"+idA, "payment_intent.succeeded", intentA, idA, 1, "succeeded"))
		s.mustWebhook(intentEvent("evt_lc_other_"+idB, "payment_intent.succeeded", intentB, idA, total, "succeeded"))
		adm := s.token("admin-lc", "admin")
		for _, ev := range []string{"evt_lc_claim_" + idA, "evt_lc_amount_" + idA, "evt_lc_other_" + idB} {
			s.awaitWebhookEvent(adm, ev, "processed") // acted on (or not) before the orders are checked
		}
		for _, id := range []string{idA, idB} {
			o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body
			if o["paymentStatus"] != "Pending" || o["status"] != "Pending" || timelineCount(o, "payment.succeeded") != 0 {
				t.Fatalf("order %s after events the provider does not back: %v/%v, timeline %v", id, o["status"], o["paymentStatus"], o["timeline"])
			}
		}
		s.expect(s.do(http.MethodPatch, "/api/orders/"+idA+"/paid", cust, nil), http.StatusConflict, "payment_not_completed")

		// The provider's real answer still counts: pay A for real, and B stays unpaid.
		s.expect(s.confirmCard(secretA, cardOK), http.StatusOK, "")
		a := s.awaitOrder(idA, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
		if n := timelineCount(a, "payment.succeeded"); n != 1 {
			t.Fatalf("A has %d payment.succeeded entries; want 1", n)
		}
		if b := s.do(http.MethodGet, "/api/orders/"+idB, cust, nil).body; b["paymentStatus"] != "Pending" {
			t.Fatalf("B is %v; want Pending", b["paymentStatus"])
		}
	}, lifecycleEnv...)
}

// Issue 5 (4): a full refund with restock requested twice at once, echoed back by the sandbox's
// charge.refunded and by a signed charge.refunded delivered twice, restores stock exactly once;
// partial refunds add up and cannot exceed what was paid.
func TestE2ELifecycleRefunds(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust, adm := s.token("cust-lc", "customer"), s.token("admin-lc", "admin")
		p := s.newProduct(2500, 10)
		id, intent := s.paidCardOrder(cust, p.id, 3)
		total := 3*p.price + courierFeeMinor // 82.00
		if got := s.stockOf(p.id); got != 7 {
			t.Fatalf("stock = %d; want 7", got)
		}

		statuses := make([]int, 2)
		bodies := make([][]byte, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], bodies[i], _ = s.send(http.MethodPost, "/api/orders/"+id+"/refunds", adm, `{"restock":true,"reason":"returned"}`)
			}()
		}
		wg.Wait()
		created, refused := 0, 0
		for i, st := range statuses {
			switch {
			case st == http.StatusCreated:
				created++
			case st == http.StatusConflict && bytes.Contains(bodies[i], []byte(`"already_refunded"`)):
				refused++
			}
		}
		if created != 1 || refused != 1 {
			t.Fatalf("concurrent full refunds answered %v %s / %s; want one 201 and one 409 already_refunded", statuses, bodies[0], bodies[1])
		}
		echo := chargeRefundedEvent("evt_lc_refund_"+id, intent, total)
		s.mustWebhook(echo)
		s.mustWebhook(echo)
		s.awaitLog("sandbox webhook delivered", "charge.refunded")
		s.awaitWebhookEvent(adm, "evt_lc_refund_"+id, "processed")
		o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body
		if o["status"] != "Refunded" || o["paymentStatus"] != "Refunded" || minorOf(t, o["refundedAmount"]) != total {
			t.Fatalf("after the full refund: %v/%v refunded %v; want Refunded/Refunded %d", o["status"], o["paymentStatus"], o["refundedAmount"], total)
		}
		if refunds, _ := o["refunds"].([]any); len(refunds) != 1 {
			t.Fatalf("refunds = %v; want exactly one (the echoes are not new refunds)", o["refunds"])
		}
		if got := s.stockOf(p.id); got != 10 {
			t.Fatalf("stock = %d; want 10 (3 returned exactly once)", got)
		}

		// Partial refunds add up and stop at the paid total.
		id2, _ := s.paidCardOrder(cust, p.id, 2) // 57.00
		path := "/api/orders/" + id2 + "/refunds"
		r := s.do(http.MethodPost, path, adm, `{"amount":20.5}`)
		s.expect(r, http.StatusCreated, "")
		if minorOf(t, r.body["amount"]) != 2050 || r.body["status"] != "succeeded" || r.body["currency"] != "USD" {
			t.Fatalf("partial refund: %s", r.raw)
		}
		s.expect(s.do(http.MethodPost, path, adm, `{"amount":30}`), http.StatusCreated, "")
		s.expect(s.do(http.MethodPost, path, adm, `{"amount":6.51}`), http.StatusConflict, "refund_exceeds_paid")
		o = s.do(http.MethodGet, "/api/orders/"+id2, cust, nil).body
		if minorOf(t, o["refundedAmount"]) != 5050 || o["paymentStatus"] != "Paid" || o["status"] != "Confirmed" {
			t.Fatalf("after 20.50 + 30.00: refunded %v, %v/%v; want 50.50, Confirmed/Paid", o["refundedAmount"], o["status"], o["paymentStatus"])
		}
		s.expect(s.do(http.MethodPost, path, adm, `{"amount":6.50}`), http.StatusCreated, "")
		s.expect(s.do(http.MethodPost, path, adm, `{"amount":0.01}`), http.StatusConflict, "already_refunded")
		o = s.do(http.MethodGet, "/api/orders/"+id2, cust, nil).body
		if minorOf(t, o["refundedAmount"]) != 2*p.price+courierFeeMinor || o["paymentStatus"] != "Refunded" {
			t.Fatalf("after refunding everything: %v %v", o["refundedAmount"], o["paymentStatus"])
		}
		if got := s.stockOf(p.id); got != 8 {
			t.Fatalf("stock = %d; want 8 (partial refunds without restock keep the units out)", got)
		}
	}, lifecycleEnv...)
}

// Issue 5 (6): every rule violation is a 4xx problem with a stable code, and changes nothing.
func TestE2ELifecycleRuleViolationsChangeNothing(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust, other, adm := s.token("cust-lc", "customer"), s.token("cust-other", "customer"), s.token("admin-lc", "admin")
		sell, stranger := s.token("seller-lc", "seller"), s.token("seller-other", "seller")
		p := s.newProduct(2500, 20)
		unpaid, _, _ := s.cardOrder(cust, p.id, 1)
		paid, _ := s.paidCardOrder(cust, p.id, 1)
		cancelled, _, _ := s.cardOrder(cust, p.id, 1)
		s.expect(s.do(http.MethodPost, "/api/orders/"+cancelled+"/cancel", cust, nil), http.StatusOK, "")
		shipped, _ := s.paidCardOrder(cust, p.id, 1)
		s.expect(s.do(http.MethodPost, "/api/orders/"+shipped+"/ship", sell, nil), http.StatusOK, "")
		s.expect(s.do(http.MethodPost, "/api/orders/"+shipped+"/refunds", adm, `{"amount":1}`), http.StatusCreated, "")

		snapshot := func() map[string]string {
			out := map[string]string{"stock": fmt.Sprint(s.stockOf(p.id))}
			for _, id := range []string{unpaid, paid, cancelled, shipped} {
				o := s.do(http.MethodGet, "/api/orders/"+id, adm, nil).body
				refunds, _ := o["refunds"].([]any)
				timeline, _ := o["timeline"].([]any)
				out[id] = fmt.Sprint(o["status"], o["paymentStatus"], o["refundedAmount"], len(refunds), len(timeline))
			}
			return out
		}
		before := snapshot()
		cases := []struct {
			name, path, token, body string
			status                  int
			code                    string
		}{
			{"refund an unpaid order", "/api/orders/" + unpaid + "/refunds", adm, `{}`, 409, "refund_not_paid"},
			{"refund a cancelled order", "/api/orders/" + cancelled + "/refunds", adm, `{}`, 409, "refund_not_paid"},
			{"refund by a customer", "/api/orders/" + paid + "/refunds", cust, `{}`, 403, "forbidden"},
			{"refund by a seller", "/api/orders/" + paid + "/refunds", sell, `{}`, 403, "forbidden"},
			{"refund more than paid", "/api/orders/" + paid + "/refunds", adm, `{"amount":1000}`, 409, "refund_exceeds_paid"},
			{"refund of zero", "/api/orders/" + paid + "/refunds", adm, `{"amount":0}`, 422, "refund_amount_invalid"},
			{"refund amount as text", "/api/orders/" + paid + "/refunds", adm, `{"amount":"5"}`, 400, "field_type_invalid"},
			{"partial refund with restock", "/api/orders/" + paid + "/refunds", adm, `{"amount":1,"restock":true}`, 422, "restock_requires_full_refund"},
			{"refund with an unknown field", "/api/orders/" + paid + "/refunds", adm, `{"amount":1,"to":"me"}`, 400, "unknown_field"},
			{"refund without a token", "/api/orders/" + paid + "/refunds", "", `{}`, 401, "unauthenticated"},
			{"refund of an unknown order", "/api/orders/no-such-order/refunds", adm, `{}`, 404, "order_not_found"},
			{"ship an unpaid order", "/api/orders/" + unpaid + "/ship", adm, ``, 409, "order_not_shippable"},
			{"ship a cancelled order", "/api/orders/" + cancelled + "/ship", adm, ``, 409, "order_not_shippable"},
			{"ship by a customer", "/api/orders/" + paid + "/ship", cust, ``, 403, "forbidden"},
			{"ship by another seller", "/api/orders/" + paid + "/ship", stranger, ``, 403, "not_order_seller"},
			{"deliver before ship", "/api/orders/" + paid + "/deliver", adm, ``, 409, "order_not_deliverable"},
			{"deliver a cancelled order", "/api/orders/" + cancelled + "/deliver", sell, ``, 409, "order_not_deliverable"},
			{"cancel a shipped order (owner)", "/api/orders/" + shipped + "/cancel", cust, ``, 409, "order_not_cancellable"},
			{"cancel a shipped order (admin)", "/api/orders/" + shipped + "/cancel", adm, ``, 409, "order_not_cancellable"},
			{"cancel a paid order (owner)", "/api/orders/" + paid + "/cancel", cust, ``, 409, "order_already_paid"},
			{"cancel another customer's order", "/api/orders/" + unpaid + "/cancel", other, ``, 404, "order_not_found"},
			{"cancel by a seller", "/api/orders/" + unpaid + "/cancel", sell, ``, 403, "forbidden"},
			{"cancel with a body", "/api/orders/" + unpaid + "/cancel", cust, `{"reason":"x"}`, 400, "unknown_field"},
			{"list webhook events as a customer", "/api/admin/webhook-events", cust, ``, 403, "forbidden"},
			{"replay as a customer", "/api/admin/webhook-events/evt_x/replay", cust, ``, 403, "forbidden"},
			{"replay an unknown event", "/api/admin/webhook-events/evt_none/replay", adm, ``, 404, "webhook_event_not_found"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				method := http.MethodPost
				if strings.HasSuffix(c.path, "/webhook-events") {
					method = http.MethodGet
				}
				var body any
				if c.body != "" {
					body = c.body
				}
				s.expect(s.do(method, c.path, c.token, body), c.status, c.code)
			})
		}
		if after := snapshot(); !reflect.DeepEqual(before, after) {
			t.Fatalf("rule violations changed state:\nbefore %v\nafter  %v", before, after)
		}
	}, lifecycleEnv...)
}

// Failed webhook events are listed for admins and can be replayed; a dispute shows on the order.
func TestE2ELifecycleWebhookInboxAndDisputes(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust, adm := s.token("cust-lc", "customer"), s.token("admin-lc", "admin")
		p := s.newProduct(2500, 10)
		id, intent := s.paidCardOrder(cust, p.id, 1)

		dispute := func(eventID, currency string) string {
			return fmt.Sprintf(`{"id":%q,"object":"event","type":"charge.dispute.created","api_version":"2023-10-16",`+
				`"created":%d,"data":{"object":{"id":"dp_%s","object":"dispute","amount":3200,"currency":%q,`+
				`"payment_intent":%q,"reason":"fraudulent","status":"needs_response"}}}`, eventID, time.Now().Unix(), eventID, currency, intent)
		}
		// An event that cannot be processed (a currency the service does not trade in) is
		// acknowledged (Stripe is never kept waiting), fails in the background...
		s.mustWebhook(dispute("evt_lc_bad_"+id, "xyz"))
		// ... is listed for the admin ...
		ev := s.awaitWebhookEvent(adm, "evt_lc_bad_"+id, "failed")
		if ev["type"] != "charge.dispute.created" || ev["status"] != "failed" || ev["receivedAt"] == nil ||
			ev["problem"] == nil || ev["attempts"] == json.Number("0") || ev["nextAttemptAt"] == nil {
			t.Fatalf("failed event = %v", ev)
		}
		// ... and replaying it answers the processing error again, changing nothing.
		s.expect(s.do(http.MethodPost, "/api/admin/webhook-events/evt_lc_bad_"+id+"/replay", adm, nil), http.StatusUnprocessableEntity, "currency_unsupported")
		if o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body; o["dispute"] != nil {
			t.Fatalf("a failed dispute event left a dispute: %v", o["dispute"])
		}

		// A processed event replays as a no-op.
		s.mustWebhook(dispute("evt_lc_dispute_"+id, "usd"))
		s.awaitWebhookEvent(adm, "evt_lc_dispute_"+id, "processed")
		s.expect(s.do(http.MethodPost, "/api/admin/webhook-events/evt_lc_dispute_"+id+"/replay", adm, nil), http.StatusOK, "")
		o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body
		d, _ := o["dispute"].(map[string]any)
		if d["status"] != "needs_response" || d["reason"] != "fraudulent" || minorOf(t, d["amount"]) != 3200 {
			t.Fatalf("dispute = %v; want {needs_response, fraudulent, 32.00}", o["dispute"])
		}
		if n := timelineCount(o, "dispute.updated"); n != 1 {
			t.Fatalf("%d dispute.updated entries; want 1 (the replay is a no-op)", n)
		}
		doc := s.do(http.MethodGet, "/openapi.yaml", "", nil)
		if doc.status != http.StatusOK || doc.header.Get("Content-Type") != "application/yaml" || !bytes.Contains(doc.raw, []byte("openapi: 3.1.0")) {
			t.Fatalf("GET /openapi.yaml: %d %q", doc.status, doc.header.Get("Content-Type"))
		}
	}, lifecycleEnv...)
}

// Issue 5 (5) through the binary: with the sandbox's webhooks off, a paid order becomes Paid by
// the reconciler, and an unpaid one past the TTL is Cancelled with its stock back. (With a
// controlled clock: TestReconcilerPaysLostWebhooksAndExpiresUnpaidOrders in internal/adapters/httpapi.)
func TestE2ELifecycleReconciler(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust := s.token("cust-lc", "customer")
		p := s.newProduct(2500, 10)
		paid, secret, _ := s.cardOrder(cust, p.id, 2)
		s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
		unpaid, _, _ := s.cardOrder(cust, p.id, 3)

		o := s.awaitOrder(paid, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
		if n := timelineCount(o, "payment.succeeded"); n != 1 {
			t.Fatalf("%d payment.succeeded entries; want 1", n)
		}
		for _, e := range o["timeline"].([]any) {
			if e := e.(map[string]any); e["type"] == "payment.succeeded" && e["cause"] != "reconciler" {
				t.Fatalf("payment.succeeded caused by %v; want reconciler (no webhook was delivered)", e["cause"])
			}
		}
		u := s.awaitOrder(unpaid, cust, func(o map[string]any) bool { return o["status"] == "Cancelled" })
		if n := timelineCount(u, "order.cancelled"); n != 1 {
			t.Fatalf("%d order.cancelled entries; want 1", n)
		}
		if got := s.stockOf(p.id); got != 8 {
			t.Fatalf("stock = %d; want 8 (the expired order's 3 back, the paid order's 2 out)", got)
		}
	}, append(lifecycleEnv, "WOLFIX_SANDBOX_WEBHOOKS=false", "WOLFIX_RECONCILE_EVERY=200ms",
		"WOLFIX_RECONCILE_AFTER=1s", "WOLFIX_PAYMENT_TTL=4s")...)
}
