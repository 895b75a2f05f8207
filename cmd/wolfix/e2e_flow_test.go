package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/domain/money"
)

const (
	cardOK           = "4242 4242 4242 4242"
	cardDeclined     = "4000 0000 0000 0002"
	cardInsufficient = "4000 0000 0000 9995"
	cardExpired      = "4000 0000 0000 0069"
	courierFeeMinor  = 700
)

func orderBody(productID string, qty any) map[string]any {
	return map[string]any{
		"items": []map[string]any{{"productId": productID, "quantity": qty}},
		"recipient": map[string]any{"firstName": "Olena", "lastName": "Koval", "middleName": nil,
			"phoneNumber": "+380501234567", "email": "olena@example.com"},
		"delivery": map[string]any{"method": "courier", "city": "Kyiv", "street": "Khreshchatyk",
			"houseNumber": "22", "branchNumber": nil},
	}
}

type product struct {
	id    string
	price int64
	stock int64
}

// pickProduct returns a listed product with at least min units in stock.
func (s *service) pickProduct(min int64) product {
	s.t.Helper()
	r := s.do(http.MethodGet, "/api/products?limit=100", "", nil)
	s.expect(r, http.StatusOK, "")
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		p := it.(map[string]any)
		stock, _ := p["stock"].(json.Number).Int64()
		if stock >= min {
			return product{id: p["id"].(string), price: minorOf(s.t, p["price"]), stock: stock}
		}
	}
	s.t.Fatalf("no product with %d units in %s", min, r.raw)
	return product{}
}

func (s *service) stockOf(id string) int64 {
	s.t.Helper()
	r := s.do(http.MethodGet, "/api/products/"+id, "", nil)
	s.expect(r, http.StatusOK, "")
	n, _ := r.body["stock"].(json.Number).Int64()
	return n
}

func minorOf(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("amount %v is not a JSON number", v)
	}
	m, err := money.ParseDecimal(n.String(), money.USD)
	if err != nil {
		t.Fatalf("amount %s: %v", n, err)
	}
	return m.Minor()
}

// confirmCard plays stripe.confirmCardPayment against the sandbox.
func (s *service) confirmCard(clientSecret, card string) reply {
	s.t.Helper()
	intentID, _, ok := strings.Cut(clientSecret, "_secret_")
	if !ok {
		s.t.Fatalf("client secret %q is not pi_…_secret_…", clientSecret)
	}
	return s.do(http.MethodPost, "/sandbox/payment-intents/"+intentID+"/confirm", "",
		map[string]any{"clientSecret": clientSecret, "cardNumber": card})
}

// waitOrder polls the order until check passes. The bound is generous because the binary under
// test may be a -race build on a loaded machine; a passing check returns at once.
func (s *service) waitOrder(id, token string, check func(o map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(waitBound)
	var last reply
	for time.Now().Before(deadline) {
		last = s.do(http.MethodGet, "/api/orders/"+id, token, nil)
		if last.status == http.StatusOK && check(last.body) {
			return last.body
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("order %s did not reach the expected state within %s: %s", id, waitBound, last.raw)
	return nil
}

// waitBound is how long waitOrder polls before it fails the test.
const waitBound = 15 * time.Second

func TestE2ECardPaymentSucceeds(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust := s.token("cust-1", "customer")
		p := s.pickProduct(2)
		r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 2))
		s.expect(r, http.StatusCreated, "")
		secret, _ := r.body["clientSecret"].(string)
		if !strings.HasPrefix(secret, "pi_") || !strings.Contains(secret, "_secret_") {
			t.Fatalf("clientSecret %q is not pi_…_secret_…", secret)
		}
		if got, want := minorOf(t, r.body["totalAmount"]), 2*p.price+courierFeeMinor; got != want {
			t.Fatalf("totalAmount: got %d; want %d (server sum)", got, want)
		}
		if r.body["currency"] != "USD" {
			t.Fatalf("currency: got %v", r.body["currency"])
		}
		orderID := r.body["orderId"].(string)

		c := s.confirmCard(secret, cardOK)
		s.expect(c, http.StatusOK, "")
		o := s.waitOrder(orderID, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
		if o["status"] != "Confirmed" {
			t.Fatalf("status: got %v; want Confirmed", o["status"])
		}
		s.expect(s.do(http.MethodPatch, "/api/orders/"+orderID+"/paid", cust, nil), http.StatusNoContent, "")
		if got := s.stockOf(p.id); got != p.stock-2 {
			t.Fatalf("stock: got %d; want %d", got, p.stock-2)
		}
		if strings.Contains(s.logs.String(), secret) {
			t.Fatal("the client secret appears in the service's logs")
		}
	})
}

func TestE2ECardPaymentFailures(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust := s.token("cust-1", "customer")
		for card, code := range map[string]string{cardDeclined: "card_declined",
			cardInsufficient: "insufficient_funds", cardExpired: "expired_card"} {
			t.Run(code, func(t *testing.T) {
				p := s.pickProduct(1)
				r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
				s.expect(r, http.StatusCreated, "")
				orderID := r.body["orderId"].(string)
				c := s.confirmCard(r.body["clientSecret"].(string), card)
				s.expect(c, http.StatusOK, "")
				if e, _ := c.body["error"].(map[string]any); e == nil || e["code"] != code {
					t.Fatalf("confirm: got %s; want error code %s", c.raw, code)
				}
				o := s.waitOrder(orderID, cust, func(o map[string]any) bool { return o["paymentStatus"] == "Failed" })
				pay := o["payment"].(map[string]any)
				if pay["failureCode"] != code {
					t.Fatalf("failureCode: got %v; want %s", pay["failureCode"], code)
				}
				s.expect(s.do(http.MethodPatch, "/api/orders/"+orderID+"/paid", cust, nil), http.StatusConflict, "payment_not_completed")
				o = s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil).body
				if o["paymentStatus"] != "Failed" || o["status"] != "Pending" {
					t.Fatalf("after PATCH /paid: got %v/%v", o["status"], o["paymentStatus"])
				}
			})
		}
	})
}

func TestE2ECashOnDelivery(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust, adm := s.token("cust-1", "customer"), s.token("admin-1", "admin")
		p := s.pickProduct(1)
		r := s.do(http.MethodPost, "/api/orders", cust, orderBody(p.id, 1))
		s.expect(r, http.StatusCreated, "")
		if _, has := r.body["clientSecret"]; has {
			t.Fatal("a cash order got a client secret")
		}
		if got, want := minorOf(t, r.body["totalAmount"]), p.price+courierFeeMinor; got != want {
			t.Fatalf("totalAmount: got %d; want %d", got, want)
		}
		id := r.body["orderId"].(string)
		o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body
		if o["status"] != "Confirmed" || o["paymentStatus"] != "Pending" || o["paymentMethod"] != "cash_on_delivery" {
			t.Fatalf("new cash order: got %v/%v/%v", o["status"], o["paymentStatus"], o["paymentMethod"])
		}
		s.expect(s.do(http.MethodPatch, "/api/orders/"+id+"/paid", cust, nil), http.StatusForbidden, "cash_collection_admin_only")
		if o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body; o["paymentStatus"] != "Pending" {
			t.Fatalf("a customer's PATCH /paid changed the payment to %v", o["paymentStatus"])
		}
		s.expect(s.do(http.MethodPatch, "/api/orders/"+id+"/paid", adm, nil), http.StatusNoContent, "")
		if o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil).body; o["paymentStatus"] != "Paid" {
			t.Fatalf("after the admin's PATCH /paid: got %v", o["paymentStatus"])
		}
	})
}

func TestE2EBadInputChangesNothing(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		cust, other, sell := s.token("cust-1", "customer"), s.token("cust-2", "customer"), s.token("seller-1", "seller")
		p := s.pickProduct(1)
		last := s.pickLastUnit()
		mine := s.do(http.MethodPost, "/api/orders", cust, orderBody(p.id, 1))
		s.expect(mine, http.StatusCreated, "")
		p.stock--
		branch := orderBody(p.id, 1)
		branch["delivery"] = map[string]any{"method": "branch", "city": "Kyiv"}
		big := `{"items":[{"productId":"` + p.id + `","quantity":1}],"pad":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name, method, path, token string
			body                      any
			status                    int
		}{
			{"no token", http.MethodPost, "/api/orders", "", orderBody(p.id, 1), 401},
			{"garbage token", http.MethodPost, "/api/orders", "not.a.jwt", orderBody(p.id, 1), 401},
			{"wrong role", http.MethodPost, "/api/orders", sell, orderBody(p.id, 1), 403},
			{"another customer's order", http.MethodGet, "/api/orders/" + mine.body["orderId"].(string), other, nil, 404},
			{"another customer's PATCH /paid", http.MethodPatch, "/api/orders/" + mine.body["orderId"].(string) + "/paid", other, nil, 404},
			{"unknown product", http.MethodPost, "/api/orders", cust, orderBody("no-such-product", 1), 422},
			{"quantity 0", http.MethodPost, "/api/orders", cust, orderBody(p.id, 0), 422},
			{"quantity negative", http.MethodPost, "/api/orders", cust, orderBody(p.id, -1), 422},
			{"quantity huge", http.MethodPost, "/api/orders", cust, orderBody(p.id, int64(1)<<53), 422},
			{"quantity fractional", http.MethodPost, "/api/orders", cust, orderBody(p.id, 1.5), 422},
			{"empty items", http.MethodPost, "/api/orders", cust, map[string]any{"items": []any{}, "recipient": orderBody(p.id, 1)["recipient"], "delivery": orderBody(p.id, 1)["delivery"]}, 422},
			{"malformed JSON", http.MethodPost, "/api/orders", cust, `{"items": [`, 400},
			{"unknown field", http.MethodPost, "/api/orders", cust, `{"items":[],"totalAmount":1}`, 400},
			{"oversize body", http.MethodPost, "/api/orders", cust, big, 413},
			{"branch without number", http.MethodPost, "/api/orders", cust, branch, 422},
			{"more than stock", http.MethodPost, "/api/orders", cust, orderBody(last.id, 2), 409},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.do(c.method, c.path, c.token, c.body)
				if r.status != c.status {
					t.Fatalf("got %d; want %d: %s", r.status, c.status, r.raw)
				}
				if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || r.body["code"] == nil {
					t.Fatalf("not a problem with a code: %s %s", r.header.Get("Content-Type"), r.raw)
				}
			})
		}
		if got := s.stockOf(p.id); got != p.stock {
			t.Fatalf("stock of %s changed: got %d; want %d", p.id, got, p.stock)
		}
		if got := s.stockOf(last.id); got != last.stock {
			t.Fatalf("stock of %s changed: got %d; want %d", last.id, got, last.stock)
		}
		list := s.do(http.MethodGet, "/api/orders", cust, nil)
		if items, _ := list.body["items"].([]any); len(items) != 1 {
			t.Fatalf("customer has %d orders; want 1: %s", len(items), list.raw)
		}
	})
}

// pickLastUnit returns a product with exactly one unit left (the demo catalog has one).
func (s *service) pickLastUnit() product {
	s.t.Helper()
	r := s.do(http.MethodGet, "/api/products?limit=100", "", nil)
	for _, it := range r.body["items"].([]any) {
		p := it.(map[string]any)
		if n, _ := p["stock"].(json.Number).Int64(); n == 1 {
			return product{id: p["id"].(string), price: minorOf(s.t, p["price"]), stock: 1}
		}
	}
	s.t.Fatalf("no product with exactly one unit: %s", r.raw)
	return product{}
}

// testWebhookSecret is a throwaway secret for the webhook tests, nothing real.
const testWebhookSecret = "whsec_e2e_only_not_a_real_secret"

// stripeSignature signs body the way Stripe does: v1 = hex(HMAC-SHA256(secret, "<t>.<body>")).
func stripeSignature(secret string, at time.Time, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", at.Unix(), body)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

func TestE2EWebhookRejectsUnsignedForgedAndStale(t *testing.T) {
	backends(t, func(t *testing.T, s *service) {
		body := `{"id":"evt_e2e","object":"event","type":"payment_intent.succeeded","api_version":"2023-10-16","created":1700000000,"data":{"object":{"id":"pi_unknown","object":"payment_intent","amount":100,"currency":"usd","status":"succeeded","metadata":{}}}}`
		now := time.Now()
		for name, sig := range map[string]string{
			"unsigned":     "",
			"garbage":      "nonsense",
			"wrong secret": stripeSignature("whsec_someone_else", now, body),
			"stale":        stripeSignature(testWebhookSecret, now.Add(-10*time.Minute), body),
			"altered body": stripeSignature(testWebhookSecret, now, strings.Replace(body, "100", "1", 1)),
		} {
			t.Run(name, func(t *testing.T) {
				r := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", sig)
				s.expect(r, http.StatusBadRequest, "")
			})
		}
		t.Run("signed and fresh is accepted", func(t *testing.T) {
			r := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", stripeSignature(testWebhookSecret, now, body))
			s.expect(r, http.StatusOK, "")
			if r.body["received"] != true {
				t.Fatalf("got %s; want {\"received\": true}", r.raw)
			}
		})
	}, "WOLFIX_STRIPE_WEBHOOK_SECRET="+testWebhookSecret)
}
