package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/app"
)

// Hostile text is refused at the edge with a 4xx and a stable code, on both databases: before this
// rule a NUL byte reached PostgreSQL, which refused it with an error answered 500.
func TestHostileTextIsA4xx(t *testing.T) {
	for name, setup := range bothDatabases() {
		t.Run(name, func(t *testing.T) {
			h := newHarnessWith(t, setup(t))
			pid := h.product("Lamp", 8900, 3)
			customer := token(t, "c1", app.RoleCustomer)
			admin := token(t, "a1", app.RoleAdmin)
			tests := []struct {
				name   string
				req    request
				status int
				code   string
			}{
				{"a cursor that decodes to a NUL", request{method: "GET", path: "/api/products?cursor=MSBhAGI"}, 422, "cursor_invalid"},
				{"an order cursor that decodes to a NUL", request{method: "GET", path: "/api/orders?cursor=MTcwMDAwMDAwMDAwMDAwMCBhAGI", token: customer}, 422, "cursor_invalid"},
				{"a NUL product id", request{method: "GET", path: "/api/products/%00"}, 404, "product_not_found"},
				{"an invalid UTF-8 product id", request{method: "GET", path: "/api/products/%ff%fe"}, 404, "product_not_found"},
				{"an over-long product id", request{method: "GET", path: "/api/products/" + strings.Repeat("p", 300)}, 404, "product_not_found"},
				{"a NUL order id", request{method: "GET", path: "/api/orders/o%00", token: customer}, 404, "order_not_found"},
				{"a NUL order id to cancel", request{method: "POST", path: "/api/orders/%00/cancel", token: customer}, 404, "order_not_found"},
				{"a NUL webhook event id", request{method: "POST", path: "/api/admin/webhook-events/evt%00/replay", token: admin}, 404, "webhook_event_not_found"},
				{"a NUL intent id", request{method: "POST", path: "/sandbox/payment-intents/pi%00/confirm", body: `{}`}, 404, "payment_intent_not_found"},
				{"a NUL in a query value", request{method: "GET", path: "/api/orders?status=%00", token: customer}, 400, "query_invalid"},
				{"invalid UTF-8 in a query value", request{method: "GET", path: "/api/products?cursor=%ff"}, 400, "query_invalid"},
				{"a broken escape in the query", request{method: "GET", path: "/api/products?cursor=%zz"}, 400, "query_invalid"},
				{"an over-long query", request{method: "GET", path: "/api/products?cursor=" + strings.Repeat("a", 2000)}, 400, "query_invalid"},
				{"invalid UTF-8 in a header", request{method: "GET", path: "/api/products", header: map[string]string{"X-Note": "\xff"}}, 400, "header_invalid"},
				{"a control character in a header", request{method: "GET", path: "/api/products", header: map[string]string{"X-Note": "a\x01b"}}, 400, "header_invalid"},
				{"a NUL in a product id of the body", request{method: "POST", path: "/api/orders", token: customer, body: orderBody(`p\u0000`, "1")}, 400, "json_text_invalid"},
				{"a NUL in a recipient name", request{method: "POST", path: "/api/orders", token: customer,
					body: strings.Replace(orderBody(pid, "1"), "Olena", `Ole\u0000na`, 1)}, 400, "json_text_invalid"},
				{"invalid UTF-8 in the body", request{method: "POST", path: "/api/orders", token: customer,
					body: strings.Replace(orderBody(pid, "1"), "Olena", "Ole\xffna", 1)}, 400, "json_text_invalid"},
				{"an over-long string in the body", request{method: "POST", path: "/api/orders", token: customer,
					body: strings.Replace(orderBody(pid, "1"), "Kyiv", strings.Repeat("K", 5000), 1)}, 400, "json_text_invalid"},
				{"a NUL in a token subject", request{method: "GET", path: "/api/orders", token: token(t, "c\x00", app.RoleCustomer)}, 401, "token_invalid"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					h.do(tc.req).wantProblem(t, tc.status, tc.code)
				})
			}
			for name, payload := range map[string]string{
				"intent id": `{"id":"evt_nul_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_\u0000","object":"payment_intent"}}}`,
				"event id":  `{"id":"evt_\u0000","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`,
				"dispute reason": `{"id":"evt_nul_2","object":"event","type":"charge.dispute.created","data":{"object":{"id":"dp_1","object":"dispute",` +
					`"payment_intent":"pi_1","status":"needs_response","reason":"fraud\u0000","amount":100,"currency":"usd"}}}`,
			} {
				t.Run("a NUL in a webhook's "+name, func(t *testing.T) {
					signature := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload),
						Secret: webhookSecret, Timestamp: time.Now()}).Header
					h.do(request{method: http.MethodPost, path: "/webhooks/stripe", body: payload,
						header: map[string]string{"Stripe-Signature": signature}}).wantProblem(t, 400, "webhook_payload_invalid")
				})
			}
			if n := h.orderCount(); n != 0 {
				t.Errorf("%d orders exist after hostile input; want 0", n)
			}
		})
	}
}
