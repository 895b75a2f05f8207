package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
)

// The payment lifecycle through the HTTP adapter: refunds, cancel, ship/deliver, the webhook
// inbox for admins, and the reconciler — on the real SQLite store, outbox and sandbox.

// placeCard places a card order for qty units of pid and returns its id and client secret.
func (h *harness) placeCard(tok, pid string, qty string) (string, string) {
	h.t.Helper()
	r := h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: tok, body: orderBody(pid, qty)})
	if r.status != http.StatusCreated {
		h.t.Fatalf("place card order: %d %s", r.status, r.body)
	}
	var p placed
	r.decode(h.t, &p)
	return p.OrderID, p.ClientSecret
}

// confirm pays the intent behind clientSecret with card, as stripe.confirmCardPayment would.
func (h *harness) confirm(clientSecret, card string) {
	h.t.Helper()
	intentID, _, _ := strings.Cut(clientSecret, "_secret_")
	r := h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/" + intentID + "/confirm",
		body: `{"clientSecret":"` + clientSecret + `","cardNumber":"` + card + `"}`})
	if r.status != http.StatusOK {
		h.t.Fatalf("confirm: %d %s", r.status, r.body)
	}
}

// paidOrder places a card order and pays it; the sandbox's webhook makes it Paid.
func (h *harness) paidOrder(tok, pid, qty string) string {
	h.t.Helper()
	id, secret := h.placeCard(tok, pid, qty)
	h.confirm(secret, "4242 4242 4242 4242")
	h.awaitPayment(tok, id, "Paid")
	return id
}

func (h *harness) post(tok, path, body string, header ...string) response {
	h.t.Helper()
	r := request{method: http.MethodPost, path: path, token: tok, body: body, header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		r.header[header[i]] = header[i+1]
	}
	return h.do(r)
}

type refundDoc struct {
	ID, OrderID, Currency, Status, CreatedAt string
	Amount                                   json.Number
	Reason                                   *string
	Restock                                  bool
}

func count[T any](items []T, match func(T) bool) int {
	n := 0
	for _, it := range items {
		if match(it) {
			n++
		}
	}
	return n
}

func paymentSucceeded(o orderDoc) int {
	return count(o.Timeline, func(e struct{ At, Type, To, Cause string }) bool { return e.Type == "payment.succeeded" })
}

func TestRefunds(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Wireless headphones", 10000, 10) // 2 × 100.00 + 7.00 = 207.00
	customer, admin := token(t, "customer-1", app.RoleCustomer), token(t, "admin-1", app.RoleAdmin)
	id := h.paidOrder(customer, pid, "2")
	path := "/api/orders/" + id + "/refunds"

	h.post(customer, path, `{"amount":10}`).wantProblem(t, http.StatusForbidden, "forbidden")
	h.post(admin, path, `{"amount":"10"}`).wantProblem(t, http.StatusBadRequest, "field_type_invalid")
	h.post(admin, path, `{"amount":0}`).wantProblem(t, http.StatusUnprocessableEntity, "refund_amount_invalid")
	h.post(admin, path, `{"amount":-1}`).wantProblem(t, http.StatusUnprocessableEntity, "refund_amount_invalid")
	h.post(admin, path, `{"amount":1.001}`).wantProblem(t, http.StatusUnprocessableEntity, "refund_amount_invalid")
	h.post(admin, path, `{"amount":1e2}`).wantProblem(t, http.StatusUnprocessableEntity, "refund_amount_invalid")
	h.post(admin, path, `{"amount":10,"restock":true}`).wantProblem(t, http.StatusUnprocessableEntity, "restock_requires_full_refund")
	h.post(admin, path, `{"amount":10,"tip":1}`).wantProblem(t, http.StatusBadRequest, "unknown_field")
	h.post(admin, path, `{"amount":207.01}`).wantProblem(t, http.StatusConflict, "refund_exceeds_paid")
	h.post(admin, "/api/orders/no-such-order/refunds", `{}`).wantProblem(t, http.StatusNotFound, "order_not_found")
	if o := h.getOrder(admin, id); o.RefundedAmount != "0.00" || len(o.Refunds) != 0 || o.PaymentStatus != "Paid" {
		t.Fatalf("refused refunds changed the order: refunded %s, %d refunds, %s", o.RefundedAmount, len(o.Refunds), o.PaymentStatus)
	}

	r := h.post(admin, path, `{"amount":50.5,"reason":"scratched"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("partial refund: %d %s", r.status, r.body)
	}
	var rf refundDoc
	r.decode(t, &rf)
	if rf.ID == "" || rf.OrderID != id || rf.Amount != "50.50" || rf.Currency != "USD" || rf.Status != "succeeded" ||
		rf.Reason == nil || *rf.Reason != "scratched" || rf.Restock || rf.CreatedAt == "" {
		t.Fatalf("refund = %+v; want 50.50 USD succeeded, reason scratched, no restock", rf)
	}
	h.post(admin, path, `{"amount":156.51}`).wantProblem(t, http.StatusConflict, "refund_exceeds_paid")
	if r := h.post(admin, path, `{"amount":100}`); r.status != http.StatusCreated {
		t.Fatalf("second partial refund: %d %s", r.status, r.body)
	}
	o := h.getOrder(admin, id)
	if o.RefundedAmount != "150.50" || o.PaymentStatus != "Paid" || o.Status != "Confirmed" || len(o.Refunds) != 2 {
		t.Fatalf("after 50.50 + 100: refunded %s, %s/%s, %d refunds; want 150.50, Paid/Confirmed, 2", o.RefundedAmount, o.PaymentStatus, o.Status, len(o.Refunds))
	}
	if got := h.stock(pid); got != 8 {
		t.Fatalf("stock after partial refunds = %d; want 8", got)
	}

	// The rest, with restock, from no amount at all.
	r = h.post(admin, path, `{"restock":true,"amount":null}`)
	if r.status != http.StatusCreated {
		t.Fatalf("final refund: %d %s", r.status, r.body)
	}
	r.decode(t, &rf)
	if rf.Amount != "56.50" || !rf.Restock || rf.Status != "succeeded" {
		t.Fatalf("final refund = %+v; want the 56.50 left, restocked", rf)
	}
	o = h.getOrder(customer, id)
	if o.RefundedAmount != "207.00" || o.PaymentStatus != "Refunded" || o.Status != "Refunded" {
		t.Fatalf("after the full refund: %s %s/%s; want 207.00 Refunded/Refunded", o.RefundedAmount, o.PaymentStatus, o.Status)
	}
	if got := h.stock(pid); got != 10 {
		t.Fatalf("stock after the restocking refund = %d; want 10", got)
	}
	h.post(admin, path, ``).wantProblem(t, http.StatusConflict, "already_refunded")
	h.post(admin, "/api/orders/"+id+"/ship", ``).wantProblem(t, http.StatusConflict, "order_not_shippable")
	if got := h.stock(pid); got != 10 {
		t.Fatalf("stock after refused requests = %d; want 10", got)
	}
}

func TestConcurrentFullRefundsRestockOnce(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Desk lamp", 2500, 5)
	customer, admin := token(t, "customer-1", app.RoleCustomer), token(t, "admin-1", app.RoleAdmin)
	id := h.paidOrder(customer, pid, "3")

	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.post(admin, "/api/orders/"+id+"/refunds", `{"restock":true}`).status
		}()
	}
	wg.Wait()
	if created := count(statuses, func(s int) bool { return s == http.StatusCreated }); created != 1 {
		t.Fatalf("statuses = %v; want exactly one 201 (the rest 409)", statuses)
	}
	if refused := count(statuses, func(s int) bool { return s == http.StatusConflict }); refused != n-1 {
		t.Fatalf("statuses = %v; want %d × 409", statuses, n-1)
	}
	// The sandbox echoes the refund back as charge.refunded; it must not restock again.
	deadline := time.Now().Add(2 * time.Second)
	for !h.logged(map[string]any{"msg": "webhook event processed", "event_type": "charge.refunded"}) {
		if time.Now().After(deadline) {
			t.Fatal("the sandbox's charge.refunded was not processed within 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := h.stock(pid); got != 5 {
		t.Fatalf("stock = %d; want 5 (3 returned exactly once)", got)
	}
	if o := h.getOrder(admin, id); len(o.Refunds) != 1 || o.Status != "Refunded" {
		t.Fatalf("order has %d refunds, status %s; want 1, Refunded", len(o.Refunds), o.Status)
	}
}

func TestRefundPendingWhileTheProviderIsDown(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Desk lamp", 2500, 5)
	customer, admin := token(t, "customer-1", app.RoleCustomer), token(t, "admin-1", app.RoleAdmin)
	id := h.paidOrder(customer, pid, "1")

	h.refundsDown.Store(true)
	first := h.post(admin, "/api/orders/"+id+"/refunds", `{"amount":10}`, httpapi.IdempotencyKeyHeader, "refund-1")
	first.wantProblem(t, http.StatusServiceUnavailable, "refund_pending")
	// The refund is booked: a retry with the same key answers the same, and books nothing more.
	again := h.post(admin, "/api/orders/"+id+"/refunds", `{"amount":10}`, httpapi.IdempotencyKeyHeader, "refund-1")
	again.wantProblem(t, http.StatusServiceUnavailable, "refund_pending")
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry was not a replay: %v", again.header)
	}
	o := h.getOrder(admin, id)
	if len(o.Refunds) != 1 || o.Refunds[0].(map[string]any)["status"] != "pending" {
		t.Fatalf("refunds = %v; want one pending", o.Refunds)
	}

	// Provider back; the reconciler retries refunds pending for more than a minute.
	h.refundsDown.Store(false)
	h.clock.advance(2 * time.Minute)
	if _, err := h.app.Reconciler.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	o = h.getOrder(admin, id)
	if len(o.Refunds) != 1 || o.Refunds[0].(map[string]any)["status"] != "succeeded" || o.RefundedAmount != "10.00" {
		t.Fatalf("after the reconciler: refunds %v, refunded %s; want one succeeded 10.00", o.Refunds, o.RefundedAmount)
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Desk lamp", 2500, 10)
	customer, other := token(t, "customer-1", app.RoleCustomer), token(t, "customer-2", app.RoleCustomer)
	admin, seller := token(t, "admin-1", app.RoleAdmin), token(t, h.seller, app.RoleSeller)

	unpaid, _ := h.placeCard(customer, pid, "2")
	h.post(other, "/api/orders/"+unpaid+"/cancel", ``).wantProblem(t, http.StatusNotFound, "order_not_found")
	h.post(seller, "/api/orders/"+unpaid+"/cancel", ``).wantProblem(t, http.StatusForbidden, "forbidden")
	h.post(customer, "/api/orders/"+unpaid+"/cancel", `{"why":1}`).wantProblem(t, http.StatusBadRequest, "unknown_field")
	if got := h.stock(pid); got != 8 {
		t.Fatalf("stock after refused cancels = %d; want 8", got)
	}
	for range 2 { // a second cancel answers the cancelled order again
		r := h.post(customer, "/api/orders/"+unpaid+"/cancel", ``)
		if r.status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		var o orderDoc
		r.decode(t, &o)
		if o.Status != "Cancelled" || o.ID != unpaid {
			t.Fatalf("cancelled order = %s %s", o.ID, o.Status)
		}
	}
	if got := h.stock(pid); got != 10 {
		t.Fatalf("stock after cancel = %d; want 10", got)
	}

	paid := h.paidOrder(customer, pid, "1")
	h.post(customer, "/api/orders/"+paid+"/cancel", `{}`).wantProblem(t, http.StatusConflict, "order_already_paid")
	r := h.post(admin, "/api/orders/"+paid+"/cancel", ``)
	if r.status != http.StatusOK {
		t.Fatalf("admin cancel of a paid order: %d %s", r.status, r.body)
	}
	// Cancelled, then refunded in full: the order ends Refunded, with both steps on its timeline.
	o := h.getOrder(customer, paid)
	cancelled := count(o.Timeline, func(e struct{ At, Type, To, Cause string }) bool {
		return e.Type == "order.cancelled" && e.Cause == "admin admin-1"
	})
	if o.Status != "Refunded" || o.PaymentStatus != "Refunded" || o.RefundedAmount != "32.00" || cancelled != 1 {
		t.Fatalf("admin-cancelled paid order = %s/%s refunded %s, %d order.cancelled by the admin; want Refunded/Refunded 32.00, 1",
			o.Status, o.PaymentStatus, o.RefundedAmount, cancelled)
	}
	if got := h.stock(pid); got != 10 {
		t.Fatalf("stock = %d; want 10", got)
	}
}

func TestShipAndDeliver(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Desk lamp", 2500, 10)
	customer, admin := token(t, "customer-1", app.RoleCustomer), token(t, "admin-1", app.RoleAdmin)
	seller, stranger := token(t, h.seller, app.RoleSeller), token(t, "seller-2", app.RoleSeller)

	unpaid, _ := h.placeCard(customer, pid, "1")
	h.post(admin, "/api/orders/"+unpaid+"/ship", ``).wantProblem(t, http.StatusConflict, "order_not_shippable")

	id := h.paidOrder(customer, pid, "1")
	h.post(customer, "/api/orders/"+id+"/ship", ``).wantProblem(t, http.StatusForbidden, "forbidden")
	h.post(stranger, "/api/orders/"+id+"/ship", ``).wantProblem(t, http.StatusForbidden, "not_order_seller")
	h.post(seller, "/api/orders/"+id+"/deliver", ``).wantProblem(t, http.StatusConflict, "order_not_deliverable")
	h.post(seller, "/api/orders/no-such-order/ship", ``).wantProblem(t, http.StatusNotFound, "order_not_found")
	if o := h.getOrder(customer, id); o.Status != "Confirmed" {
		t.Fatalf("refused requests moved the order to %s", o.Status)
	}

	r := h.post(seller, "/api/orders/"+id+"/ship", ``, httpapi.IdempotencyKeyHeader, "ship-1")
	if r.status != http.StatusOK {
		t.Fatalf("ship: %d %s", r.status, r.body)
	}
	var o orderDoc
	r.decode(t, &o)
	if o.Status != "Shipped" {
		t.Fatalf("shipped order status %s", o.Status)
	}
	if again := h.post(seller, "/api/orders/"+id+"/ship", ``, httpapi.IdempotencyKeyHeader, "ship-1"); again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("ship retry was not replayed: %d %s", again.status, again.body)
	}
	h.post(customer, "/api/orders/"+id+"/cancel", ``).wantProblem(t, http.StatusConflict, "order_not_cancellable")
	h.post(admin, "/api/orders/"+id+"/cancel", ``).wantProblem(t, http.StatusConflict, "order_not_cancellable")
	r = h.post(admin, "/api/orders/"+id+"/deliver", ``)
	if r.status != http.StatusOK {
		t.Fatalf("deliver: %d %s", r.status, r.body)
	}
	o = h.getOrder(customer, id)
	if o.Status != "Delivered" {
		t.Fatalf("status %s; want Delivered", o.Status)
	}
	if n := count(o.Timeline, func(e struct{ At, Type, To, Cause string }) bool { return e.Type == "order.shipped" }); n != 1 {
		t.Fatalf("%d order.shipped entries; want 1 (the replay did nothing)", n)
	}

	// Cash on delivery: delivering records the cash.
	r = h.do(request{method: http.MethodPost, path: "/api/orders", token: customer, body: orderBody(pid, "1")})
	var cash placed
	r.decode(t, &cash)
	h.post(admin, "/api/orders/"+cash.OrderID+"/ship", ``)
	h.post(admin, "/api/orders/"+cash.OrderID+"/deliver", ``)
	if o := h.getOrder(customer, cash.OrderID); o.Status != "Delivered" || o.PaymentStatus != "Paid" {
		t.Fatalf("delivered cash order %s/%s; want Delivered/Paid", o.Status, o.PaymentStatus)
	}
}

// A provider whose intent does not match the order (another amount, another order id) never
// gets the order marked Paid, whichever entrance reports the payment: the sandbox's signed
// webhook, the customer's PATCH /paid, or the reconciler.
func TestMismatchedIntentNeverMarksPaid(t *testing.T) {
	for name, change := range map[string]func(app.IntentRequest) app.IntentRequest{
		"amount": func(r app.IntentRequest) app.IntentRequest {
			r.Amount = mustMoney(r.Amount.Minor() - 1)
			return r
		},
		"order id": func(r app.IntentRequest) app.IntentRequest {
			r.OrderID = "someone-elses-order"
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarnessWith(t, harnessSetup{intents: change, reconciler: app.ReconcilerConfig{After: time.Minute, TTL: time.Hour}})
			pid := h.product("Desk lamp", 2500, 10)
			customer := token(t, "customer-1", app.RoleCustomer)
			id, secret := h.placeCard(customer, pid, "1")
			h.confirm(secret, "4242 4242 4242 4242") // the provider's intent succeeds

			deadline := time.Now().Add(2 * time.Second)
			for !h.logged(map[string]any{"msg": "provider report does not match the order; not marking it paid", "order_id": id}) {
				if time.Now().After(deadline) {
					t.Fatal("the sandbox's webhook did not report the anomaly within 2 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			h.do(request{method: http.MethodPatch, path: "/api/orders/" + id + "/paid", token: customer}).
				wantProblem(t, http.StatusConflict, "payment_not_completed")
			h.clock.advance(2 * time.Minute)
			if _, err := h.app.Reconciler.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			o := h.getOrder(customer, id)
			if o.PaymentStatus != "Pending" || o.Status != "Pending" || paymentSucceeded(o) != 0 {
				t.Fatalf("order = %s/%s with %d payment.succeeded; want Pending/Pending, none", o.Status, o.PaymentStatus, paymentSucceeded(o))
			}
		})
	}
}

// A webhook that never arrives: the reconciler finds the payment after WOLFIX_RECONCILE_AFTER,
// and cancels the order nobody paid after WOLFIX_PAYMENT_TTL, stock and intent with it.
func TestReconcilerPaysLostWebhooksAndExpiresUnpaidOrders(t *testing.T) {
	h := newHarnessWith(t, harnessSetup{noWebhooks: true, reconciler: app.ReconcilerConfig{After: time.Minute, TTL: 10 * time.Minute}})
	pid := h.product("Desk lamp", 2500, 10)
	customer := token(t, "customer-1", app.RoleCustomer)
	paid, secret := h.placeCard(customer, pid, "2")
	h.confirm(secret, "4242 4242 4242 4242")
	unpaid, _ := h.placeCard(customer, pid, "3")
	if got := h.stock(pid); got != 5 {
		t.Fatalf("stock = %d; want 5", got)
	}
	ctx := context.Background()

	// Too early: nothing is re-read yet.
	if rep, err := h.app.Reconciler.RunOnce(ctx); err != nil || rep.Checked != 0 {
		t.Fatalf("early pass = %+v, %v; want nothing checked", rep, err)
	}
	if o := h.getOrder(customer, paid); o.PaymentStatus != "Pending" {
		t.Fatalf("paid order before the reconciler: %s; want Pending (no webhook)", o.PaymentStatus)
	}

	h.clock.advance(2 * time.Minute)
	rep, err := h.app.Reconciler.RunOnce(ctx)
	if err != nil || rep.Paid != 1 || rep.Expired != 0 {
		t.Fatalf("pass after RECONCILE_AFTER = %+v, %v; want 1 paid, 0 expired", rep, err)
	}
	o := h.getOrder(customer, paid)
	if o.PaymentStatus != "Paid" || o.Status != "Confirmed" || paymentSucceeded(o) != 1 {
		t.Fatalf("lost-webhook order = %s/%s, %d payment.succeeded", o.Status, o.PaymentStatus, paymentSucceeded(o))
	}
	if cause := o.Timeline[len(o.Timeline)-1].Cause; cause != "reconciler" {
		t.Fatalf("cause = %q; want reconciler", cause)
	}
	if o := h.getOrder(customer, unpaid); o.Status != "Pending" {
		t.Fatalf("unpaid order before the TTL: %s; want Pending", o.Status)
	}

	h.clock.advance(10 * time.Minute)
	if rep, err := h.app.Reconciler.RunOnce(ctx); err != nil || rep.Expired != 1 {
		t.Fatalf("pass after PAYMENT_TTL = %+v, %v; want 1 expired", rep, err)
	}
	o = h.getOrder(customer, unpaid)
	if o.Status != "Cancelled" || o.Timeline[len(o.Timeline)-1].Cause != "reconciler" {
		t.Fatalf("expired order = %s by %q; want Cancelled by reconciler", o.Status, o.Timeline[len(o.Timeline)-1].Cause)
	}
	if got := h.stock(pid); got != 8 {
		t.Fatalf("stock = %d; want 8 (the expired order's 3 back)", got)
	}
	// Repeating the pass changes nothing.
	if rep, err := h.app.Reconciler.RunOnce(ctx); err != nil || rep.Paid+rep.Expired != 0 {
		t.Fatalf("repeated pass = %+v, %v; want nothing", rep, err)
	}
	if got := h.stock(pid); got != 8 {
		t.Fatalf("stock after a repeated pass = %d; want 8", got)
	}
}

// An event whose processing failed is listed for admins and can be replayed once the cause is
// gone; a replay of a processed event changes nothing.
func TestWebhookEventsListAndReplay(t *testing.T) {
	h := newHarnessWith(t, harnessSetup{noWebhooks: true})
	pid := h.product("Desk lamp", 2500, 10)
	customer, admin := token(t, "customer-1", app.RoleCustomer), token(t, "admin-1", app.RoleAdmin)
	id, secret := h.placeCard(customer, pid, "1")
	h.confirm(secret, "4242 4242 4242 4242")
	intentID, _, _ := strings.Cut(secret, "_secret_")

	payload := `{"id":"evt_replay_1","object":"event","type":"payment_intent.succeeded","api_version":"2023-10-16",` +
		`"created":1700000000,"data":{"object":{"id":"` + intentID + `","object":"payment_intent","amount":3200,` +
		`"currency":"usd","status":"succeeded","metadata":{"order_id":"` + id + `"}}}}`
	h.readsDown.Store(true)
	h.postWebhook(payload) // acknowledged at once; the processing fails in the background

	list := "/api/admin/webhook-events?status=failed"
	h.do(request{method: http.MethodGet, path: list, token: customer}).wantProblem(t, http.StatusForbidden, "forbidden")
	h.do(request{method: http.MethodGet, path: list}).wantProblem(t, http.StatusUnauthorized, "unauthenticated")
	h.do(request{method: http.MethodGet, path: "/api/admin/webhook-events?status=lost", token: admin}).
		wantProblem(t, http.StatusUnprocessableEntity, "webhook_status_invalid")
	page := h.awaitWebhookEvents(admin, "failed", 1)
	ev := page.Items[0]
	if ev.ID != "evt_replay_1" || ev.Type != "payment_intent.succeeded" || ev.Status != "failed" || ev.ReceivedAt == "" ||
		ev.Problem == nil || *ev.Problem == "" || ev.Attempts < 1 || ev.IntentID == nil || *ev.IntentID != intentID ||
		ev.ProcessedAt != nil || ev.NextAttemptAt == nil {
		t.Fatalf("failed event = %+v", ev)
	}

	replay := "/api/admin/webhook-events/evt_replay_1/replay"
	h.post(customer, replay, ``).wantProblem(t, http.StatusForbidden, "forbidden")
	h.post(admin, "/api/admin/webhook-events/evt_nope/replay", ``).wantProblem(t, http.StatusNotFound, "webhook_event_not_found")
	h.post(admin, replay, ``).wantProblem(t, http.StatusServiceUnavailable, "payment_provider_unavailable")
	if o := h.getOrder(customer, id); o.PaymentStatus != "Pending" {
		t.Fatalf("a failed replay changed the payment to %s", o.PaymentStatus)
	}

	h.readsDown.Store(false)
	for range 2 {
		if r := h.post(admin, replay, ``); r.status != http.StatusOK || !strings.Contains(string(r.body), `"replayed":true`) {
			t.Fatalf("replay: %d %s", r.status, r.body)
		}
	}
	o := h.getOrder(customer, id)
	if o.PaymentStatus != "Paid" || paymentSucceeded(o) != 1 || o.Timeline[len(o.Timeline)-1].Cause != "webhook evt_replay_1" {
		t.Fatalf("after replay: %s, %d payment.succeeded, last cause %q", o.PaymentStatus, paymentSucceeded(o), o.Timeline[len(o.Timeline)-1].Cause)
	}
	h.awaitWebhookEvents(admin, "failed", 0)
	if processed := h.awaitWebhookEvents(admin, "processed", 1).Items[0]; processed.ID != "evt_replay_1" ||
		processed.Status != "processed" || processed.ProcessedAt == nil || processed.Problem != nil {
		t.Fatalf("processed event = %+v", processed)
	}
}

// Disputes come from signed events and show on the order as {status, reason, amount}.
func TestDisputeShowsOnTheOrder(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Desk lamp", 2500, 10)
	customer := token(t, "customer-1", app.RoleCustomer)
	id := h.paidOrder(customer, pid, "1")
	intentID := *h.getOrder(customer, id).Payment.IntentID
	payload := `{"id":"evt_dispute_1","object":"event","type":"charge.dispute.created","api_version":"2023-10-16",` +
		`"created":1700000000,"data":{"object":{"id":"dp_1","object":"dispute","amount":3200,"currency":"usd",` +
		`"payment_intent":"` + intentID + `","reason":"fraudulent","status":"needs_response"}}}`
	h.postWebhook(payload)
	o := h.awaitOrder(customer, id, func(o orderDoc) bool { return o.Dispute != nil })
	d, _ := o.Dispute.(map[string]any)
	if d["status"] != "needs_response" || d["reason"] != "fraudulent" || d["amount"] != json.Number("32.00") {
		t.Fatalf("dispute = %v; want needs_response, fraudulent, 32.00", d)
	}
}
