package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
)

func TestBadOrderInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Wireless headphones", 22649, 5)
	customer := token(t, "customer-1", app.RoleCustomer)
	branchNoNumber := `{"items":[{"productId":"` + pid + `","quantity":1}],"recipient":{"firstName":"Olena","lastName":"Koval",` +
		`"phoneNumber":"+380501234567","email":"olena@example.com"},"delivery":{"method":"branch","city":"Kyiv","branchNumber":null}}`

	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantCode   string
	}{
		{"no token", request{body: orderBody(pid, "1")}, 401, "unauthenticated"},
		{"not a bearer token", request{body: orderBody(pid, "1"), header: map[string]string{"Authorization": "Basic dTpw"}}, 401, "unauthenticated"},
		{"bad token", request{token: "not-a-jwt", body: orderBody(pid, "1")}, 401, "token_invalid"},
		{"token signed with another secret", request{token: forgedToken(t), body: orderBody(pid, "1")}, 401, "token_invalid"},
		{"seller may not buy", request{token: token(t, "s1", app.RoleSeller), body: orderBody(pid, "1")}, 403, "forbidden"},
		{"token without roles", request{token: token(t, "nobody"), body: orderBody(pid, "1")}, 403, "forbidden"},
		{"unknown product", request{token: customer, body: orderBody("no-such-product", "1")}, 422, "product_unknown"},
		{"quantity zero", request{token: customer, body: orderBody(pid, "0")}, 422, "quantity_invalid"},
		{"quantity negative", request{token: customer, body: orderBody(pid, "-1")}, 422, "quantity_invalid"},
		{"quantity above the limit", request{token: customer, body: orderBody(pid, "1001")}, 422, "quantity_invalid"},
		{"quantity beyond int64", request{token: customer, body: orderBody(pid, "99999999999999999999")}, 422, "quantity_invalid"},
		{"quantity fractional", request{token: customer, body: orderBody(pid, "1.5")}, 422, "quantity_invalid"},
		{"quantity with exponent", request{token: customer, body: orderBody(pid, "1e2")}, 422, "quantity_invalid"},
		{"quantity as text", request{token: customer, body: orderBody(pid, `"two"`)}, 400, "field_type_invalid"},
		{"quantity as bool", request{token: customer, body: orderBody(pid, `true`)}, 400, "field_type_invalid"},
		{"more than the stock", request{token: customer, body: orderBody(pid, "6")}, 409, "out_of_stock"},
		{"empty items", request{token: customer, body: `{"items":[],` + recipientAndCourier + `}`}, 422, "items_empty"},
		{"no items", request{token: customer, body: `{` + recipientAndCourier + `}`}, 422, "items_empty"},
		{"same product twice", request{token: customer, body: `{"items":[{"productId":"` + pid + `","quantity":1},{"productId":"` + pid + `","quantity":1}],` + recipientAndCourier + `}`}, 422, "duplicate_product"},
		{"missing branch number", request{token: customer, body: branchNoNumber}, 422, "branch_number_required"},
		{"unknown delivery method", request{token: customer, body: strings.Replace(orderBody(pid, "1"), `"courier"`, `"drone"`, 1)}, 422, "delivery_invalid"},
		{"bad email", request{token: customer, body: strings.Replace(orderBody(pid, "1"), "olena@example.com", "olena", 1)}, 422, "recipient_invalid"},
		{"malformed JSON", request{token: customer, body: `{"items": [`}, 400, "malformed_json"},
		{"not JSON at all", request{token: customer, body: `items=1`}, 400, "malformed_json"},
		{"two JSON values", request{token: customer, body: orderBody(pid, "1") + `{}`}, 400, "malformed_json"},
		{"JSON array instead of object", request{token: customer, body: `[]`}, 400, "field_type_invalid"},
		{"items of the wrong type", request{token: customer, body: `{"items":"all of them"}`}, 400, "field_type_invalid"},
		{"unknown field", request{token: customer, body: strings.Replace(orderBody(pid, "1"), `"items"`, `"totalAmount":0.01,"items"`, 1)}, 400, "unknown_field"},
		{"client-chosen customer", request{token: customer, body: strings.Replace(orderBody(pid, "1"), `"items"`, `"customerId":"someone-else","items"`, 1)}, 400, "unknown_field"},
		{"client-chosen payment method", request{token: customer, body: strings.Replace(orderBody(pid, "1"), `"items"`, `"paymentMethod":"card","items"`, 1)}, 400, "unknown_field"},
		{"oversize body", request{token: customer, body: `{"items":[],"pad":"` + strings.Repeat("x", 70<<10) + `"}`}, 413, "body_too_large"},
		{"not declared JSON", request{token: customer, body: orderBody(pid, "1"), contentType: "text/plain"}, 415, "unsupported_media_type"},
		{"empty body", request{token: customer, header: map[string]string{"Content-Type": "application/json"}}, 400, "malformed_json"},
	}
	for _, path := range []string{"/api/orders", "/api/orders/with-payment"} {
		for _, tc := range tests {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				tc.req.method, tc.req.path = http.MethodPost, path
				h.do(tc.req).wantProblem(t, tc.wantStatus, tc.wantCode)
				if got := h.stock(pid); got != 5 {
					t.Errorf("stock = %d; want 5 (unchanged)", got)
				}
				if got := h.orderCount(); got != 0 {
					t.Errorf("orders = %d; want 0", got)
				}
			})
		}
	}
}

// forgedToken is a well-formed token signed with a secret the service does not have.
func forgedToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint("a-different-secret-that-is-long-enough-too", "customer-1", []app.Role{app.RoleCustomer}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type placed struct {
	OrderID, Number, ClientSecret, Currency string
	TotalAmount                             json.Number
}

type orderDoc struct {
	ID, Number, Status, PaymentStatus, PaymentMethod, Currency, CustomerID, CreatedAt string
	TotalAmount, RefundedAmount, DeliveryFee                                          json.Number
	Items                                                                             []struct {
		ProductID, Title, SellerID string
		UnitPrice                  json.Number
		Quantity                   int64
	}
	Recipient map[string]any
	Delivery  map[string]any
	Payment   struct {
		Provider       string
		IntentID       *string
		Status         string
		FailureCode    *string
		FailureMessage *string
	}
	Refunds  []any
	Dispute  any
	Timeline []struct{ At, Type, To, Cause string }
}

func (h *harness) getOrder(tok, id string) orderDoc {
	h.t.Helper()
	r := h.do(request{method: http.MethodGet, path: "/api/orders/" + id, token: tok})
	if r.status != http.StatusOK {
		h.t.Fatalf("GET order: status %d: %s", r.status, r.body)
	}
	var o orderDoc
	r.decode(h.t, &o)
	return o
}

// awaitPayment polls the order until its payment status is want (the sandbox's webhook is
// delivered in the background), for at most 2 s.
func (h *harness) awaitPayment(tok, id, want string) orderDoc {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		o := h.getOrder(tok, id)
		if o.PaymentStatus == want {
			return o
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("paymentStatus = %q after 2s; want %q", o.PaymentStatus, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCashOnDeliveryOrder(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Mechanical keyboard", 12999, 10)
	customer := token(t, "customer-1", app.RoleCustomer)

	r := h.do(request{method: http.MethodPost, path: "/api/orders", token: customer, body: orderBody(pid, "2")})
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d; want 201 (%s)", r.status, r.body)
	}
	var p placed
	r.decode(t, &p)
	if p.OrderID == "" || p.TotalAmount != "266.98" || p.Currency != "USD" || p.ClientSecret != "" {
		t.Fatalf("placed = %+v; want an order id, 266.98 USD (2 × 129.99 + 7.00) and no client secret", p)
	}
	if loc := r.header.Get("Location"); loc != "/api/orders/"+p.OrderID {
		t.Errorf("Location = %q; want /api/orders/%s", loc, p.OrderID)
	}
	if got := h.stock(pid); got != 8 {
		t.Errorf("stock = %d; want 8", got)
	}
	o := h.getOrder(customer, p.OrderID)
	if o.Status != "Confirmed" || o.PaymentStatus != "Pending" || o.PaymentMethod != "cash_on_delivery" || o.DeliveryFee != "7.00" {
		t.Errorf("order = %s/%s/%s fee %s; want Confirmed/Pending/cash_on_delivery fee 7.00", o.Status, o.PaymentStatus, o.PaymentMethod, o.DeliveryFee)
	}

	h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: customer}).
		wantProblem(t, http.StatusForbidden, "cash_collection_admin_only")
	if got := h.getOrder(customer, p.OrderID).PaymentStatus; got != "Pending" {
		t.Fatalf("paymentStatus after the customer's PATCH = %q; want Pending", got)
	}
	admin := token(t, "admin-1", app.RoleAdmin)
	for range 2 { // idempotent
		if r := h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: admin}); r.status != http.StatusNoContent {
			t.Fatalf("admin PATCH /paid status = %d; want 204 (%s)", r.status, r.body)
		}
	}
	if got := h.getOrder(customer, p.OrderID).PaymentStatus; got != "Paid" {
		t.Errorf("paymentStatus = %q; want Paid", got)
	}
}

func TestCardOrderPaidWithTheSandbox(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Wireless headphones", 22649, 10)
	customer := token(t, "customer-1", app.RoleCustomer)

	r := h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: customer, body: orderBody(pid, "2")})
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d; want 201 (%s)", r.status, r.body)
	}
	var p placed
	r.decode(t, &p)
	if p.TotalAmount != "459.98" || !strings.HasPrefix(p.ClientSecret, "pi_") || !strings.Contains(p.ClientSecret, "_secret_") {
		t.Fatalf("placed = %+v; want total 459.98 and a pi_…_secret_… client secret", p)
	}
	before := h.getOrder(customer, p.OrderID)
	if before.Status != "Pending" || before.PaymentStatus != "Pending" || before.Payment.IntentID == nil {
		t.Fatalf("new card order = %+v; want Pending/Pending with an intent", before)
	}
	h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: customer}).
		wantProblem(t, http.StatusConflict, "payment_not_completed")

	var result struct {
		PaymentIntent struct{ ID, Status string }
		Error         *struct{ Type, Code, Message string }
	}
	h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/" + *before.Payment.IntentID + "/confirm",
		body: `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"4242 4242 4242 4242"}`}).decode(t, &result)
	if result.PaymentIntent.Status != "succeeded" || result.Error != nil {
		t.Fatalf("confirm = %+v; want succeeded without error", result)
	}

	o := h.awaitPayment(customer, p.OrderID, "Paid")
	if o.Status != "Confirmed" || o.Payment.Provider != "sandbox" || o.Payment.Status != "Paid" || o.Payment.FailureCode != nil {
		t.Errorf("paid order = %+v; want Confirmed, sandbox payment Paid without failure", o)
	}
	if o.RefundedAmount != "0.00" || o.Refunds == nil || len(o.Refunds) != 0 || o.Dispute != nil || len(o.Timeline) < 3 {
		t.Errorf("order extras = refunded %s refunds %v dispute %v timeline %d; want 0.00, [], null, ≥3 entries",
			o.RefundedAmount, o.Refunds, o.Dispute, len(o.Timeline))
	}
	if len(o.Items) != 1 || o.Items[0].UnitPrice != "226.49" || o.Items[0].Quantity != 2 || o.Items[0].SellerID != h.seller {
		t.Errorf("items = %+v; want 2 × 226.49 from %s", o.Items, h.seller)
	}
	if r := h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: customer}); r.status != http.StatusNoContent {
		t.Errorf("PATCH /paid after payment: status = %d; want 204 (%s)", r.status, r.body)
	}
	if got := h.stock(pid); got != 8 {
		t.Errorf("stock = %d; want 8", got)
	}
}

func TestCardOrderDeclined(t *testing.T) {
	h := newHarness(t)
	pid := h.product("USB-C charger", 3499, 100)
	customer := token(t, "customer-1", app.RoleCustomer)
	for _, tc := range []struct{ card, code string }{
		{"4000 0000 0000 0002", "card_declined"},
		{"4000000000009995", "insufficient_funds"},
		{"4000-0000-0000-0069", "expired_card"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			var p placed
			h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: customer, body: orderBody(pid, "1")}).decode(t, &p)
			intent := strings.Split(p.ClientSecret, "_secret_")[0]
			var result struct {
				PaymentIntent struct{ ID, Status string }
				Error         *struct{ Type, Code, Message string }
			}
			h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/" + intent + "/confirm",
				body: `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"` + tc.card + `"}`}).decode(t, &result)
			if result.Error == nil || result.Error.Code != tc.code || result.PaymentIntent.Status != "requires_payment_method" {
				t.Fatalf("confirm = %+v; want requires_payment_method with error %s", result, tc.code)
			}
			o := h.awaitPayment(customer, p.OrderID, "Failed")
			if o.Payment.FailureCode == nil || *o.Payment.FailureCode != tc.code || o.Payment.FailureMessage == nil {
				t.Errorf("payment = %+v; want failure %s with a message", o.Payment, tc.code)
			}
			h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: customer}).
				wantProblem(t, http.StatusConflict, "payment_not_completed")
		})
	}
}

func TestSandboxConfirmRefusals(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Espresso cups", 2450, 10)
	var p placed
	h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: token(t, "c1", app.RoleCustomer), body: orderBody(pid, "1")}).decode(t, &p)
	intent := strings.Split(p.ClientSecret, "_secret_")[0]
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"wrong client secret", intent, `{"clientSecret":"pi_x_secret_y","cardNumber":"4242424242424242"}`, 422, "sandbox_client_secret_invalid"},
		{"unknown card", intent, `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"5555555555554444"}`, 422, "sandbox_unknown_test_card"},
		{"unknown intent", "pi_nope", `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"4242424242424242"}`, 404, "payment_intent_not_found"},
		{"unknown field", intent, `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"4242424242424242","cvc":"123"}`, 400, "unknown_field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/" + tc.path + "/confirm", body: tc.body}).
				wantProblem(t, tc.status, tc.code)
		})
	}
}

func TestOrdersAreVisibleToTheirCustomerAndAdmins(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Lamp", 8900, 10)
	alice, bob := token(t, "alice", app.RoleCustomer), token(t, "bob", app.RoleCustomer)
	admin := token(t, "admin-1", app.RoleAdmin)
	var p placed
	h.do(request{method: http.MethodPost, path: "/api/orders", token: alice, body: orderBody(pid, "1")}).decode(t, &p)
	h.do(request{method: http.MethodPost, path: "/api/orders", token: bob, body: orderBody(pid, "1")})

	h.do(request{method: http.MethodGet, path: "/api/orders/" + p.OrderID, token: bob}).wantProblem(t, 404, "order_not_found")
	h.do(request{method: http.MethodPatch, path: "/api/orders/" + p.OrderID + "/paid", token: bob}).wantProblem(t, 404, "order_not_found")
	h.do(request{method: http.MethodGet, path: "/api/orders/no-such-order", token: alice}).wantProblem(t, 404, "order_not_found")
	h.do(request{method: http.MethodGet, path: "/api/orders/" + p.OrderID, token: token(t, "s1", app.RoleSeller)}).wantProblem(t, 403, "forbidden")
	h.do(request{method: http.MethodGet, path: "/api/orders/" + p.OrderID}).wantProblem(t, 401, "unauthenticated")
	if o := h.getOrder(admin, p.OrderID); o.CustomerID != "alice" {
		t.Errorf("admin sees customer %q; want alice", o.CustomerID)
	}

	list := func(tok, query string) []orderDoc {
		var page struct {
			Items      []orderDoc
			NextCursor *string
		}
		h.do(request{method: http.MethodGet, path: "/api/orders" + query, token: tok}).decode(t, &page)
		return page.Items
	}
	if got := list(alice, ""); len(got) != 1 || got[0].ID != p.OrderID {
		t.Errorf("alice's list = %+v; want only her order", got)
	}
	if got := list(admin, "?status=Confirmed"); len(got) != 2 {
		t.Errorf("admin's Confirmed list has %d orders; want 2", len(got))
	}
	if got := list(admin, "?status=Shipped"); len(got) != 0 {
		t.Errorf("admin's Shipped list has %d orders; want 0", len(got))
	}
	h.do(request{method: http.MethodGet, path: "/api/orders?status=Lost", token: admin}).wantProblem(t, 422, "status_invalid")
	h.do(request{method: http.MethodGet, path: "/api/orders?limit=0", token: admin}).wantProblem(t, 422, "limit_invalid")
}
