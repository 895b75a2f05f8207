package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/httpapi/openapitest"
	"github.com/wolfix/orders/internal/app"
)

// fuzzRoutes are the routes the fuzzer picks from by index; {id} is replaced by the fuzzed id,
// or by a real product or order id when the fuzzed id is @product or @order.
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/openapi.yaml"}, {"POST", "/webhooks/stripe"},
	{"POST", "/sandbox/payment-intents/{id}/confirm"},
	{"GET", "/api/config"}, {"GET", "/api/products"}, {"GET", "/api/products/{id}"},
	{"POST", "/api/products"}, {"PATCH", "/api/products/{id}"},
	{"POST", "/api/orders"}, {"POST", "/api/orders/with-payment"}, {"GET", "/api/orders"},
	{"GET", "/api/orders/{id}"}, {"PATCH", "/api/orders/{id}/paid"}, {"POST", "/api/orders/{id}/cancel"},
	{"POST", "/api/orders/{id}/refunds"}, {"POST", "/api/orders/{id}/ship"}, {"POST", "/api/orders/{id}/deliver"},
	{"GET", "/api/admin/webhook-events"}, {"POST", "/api/admin/webhook-events/{id}/replay"},
	{"GET", "/"}, {"GET", "/orders/{id}/confirmation"}, {"GET", "/admin"}, {"GET", "/docs"}, {"GET", "/assets/{id}"},
	{"POST", "/dev/sign-in"},
}

// Callers the fuzzer plays, by index: anonymous, the three roles, a forged token, and (on the
// webhook route) Stripe with a valid signature over the fuzzed body.
const (
	callerNone = iota
	callerCustomer
	callerAdmin
	callerSeller
	callerForged
	callerStripe
	callerCount
)

// fuzzPatience is how long the fuzzer's client waits for an answer that may be held back — a
// request with If-None-Match, whose matching ETag and ?wait hold an order's read up to 30 s —
// before it hangs up, so no fuzzed wait stalls an iteration for long.
const fuzzPatience = 500 * time.Millisecond

// FuzzRoutes drives every route of the real router over real SQLite storage, real tokens and the
// sandbox gateway with fuzzed methods, paths, ids, query strings, headers and bodies. Whatever
// comes in, the answer must not be a 5xx: bad input is the client's problem (4xx), and nothing
// here is down. `make fuzz FUZZTIME=…` runs it; the seeds in testdata/fuzz/FuzzRoutes hold the
// hostile cases of issue 8 (NUL bytes and invalid UTF-8 in paths, queries, bodies and webhooks).
func FuzzRoutes(f *testing.F) {
	h := newHarnessWith(f, harnessSetup{discardLogs: true})
	product := h.product("Fuzzed lamp", 1999, 1_000_000)
	tokens := [callerCount]string{
		callerCustomer: token(f, "fuzz-customer", app.RoleCustomer),
		callerAdmin:    token(f, "fuzz-admin", app.RoleAdmin),
		callerSeller:   token(f, h.seller, app.RoleSeller),
		callerForged:   token(f, "fuzz-customer", app.RoleCustomer)[:40] + "forged.signature",
	}
	var placed struct{ OrderID string }
	h.do(request{method: "POST", path: "/api/orders/with-payment", token: tokens[callerCustomer],
		body: orderBody(product, "1")}).decode(f, &placed)

	f.Add(uint8(6), "", "", "", "cursor=MSBhAGI", "", uint8(callerNone), []byte(nil))
	f.Add(uint8(7), "", "\x00", "", "", "", uint8(callerNone), []byte(nil))
	f.Add(uint8(13), "", "o\x00", "", "", "", uint8(callerCustomer), []byte(nil))
	f.Add(uint8(10), "", "", "", "", "", uint8(callerCustomer), []byte(orderBody("@product", "2")))
	f.Add(uint8(10), "", "", "", "", "Idempotency-Key: k1", uint8(callerCustomer), []byte(orderBody(`p\u0000`, "1")))
	f.Add(uint8(3), "", "", "", "", "", uint8(callerStripe),
		[]byte(`{"id":"evt_f1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_\u0000","object":"payment_intent"}}}`))
	f.Add(uint8(3), "", "", "", "", "", uint8(callerStripe),
		[]byte(`{"id":"evt_\u0000","object":"event","type":"charge.dispute.created","data":{"object":{"id":"dp_1","object":"dispute","payment_intent":"pi_1","reason":"fraud\u0000"}}}`))
	f.Add(uint8(16), "", "@order", "", "", "", uint8(callerAdmin), []byte(`{"amount":"1.00","reason":"r\u0000"}`))
	f.Add(uint8(9), "", "@product", "", "", "", uint8(callerSeller), []byte(`{"title":"\u0000","stock":"1"}`))
	f.Add(uint8(12), "", "", "", "status=%00&limit=%ff", "X-Request-ID: \xff", uint8(callerCustomer), []byte(nil))
	f.Add(uint8(200), "DELETE", "", "api/products/%00", "", "", uint8(callerForged), []byte("{"))
	f.Add(uint8(13), "", "@order", "", "wait=30", `If-None-Match: "0"`, uint8(callerCustomer), []byte(nil))
	f.Add(uint8(13), "", "@order", "", "wait=1e9", `If-None-Match: W/"0", *`, uint8(callerAdmin), []byte(nil))

	f.Fuzz(func(t *testing.T, route uint8, method, id, rawPath, rawQuery, header string, caller uint8, body []byte) {
		switch id {
		case "@product":
			id = product
		case "@order":
			id = placed.OrderID
		}
		b := bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("@product"), []byte(product)), []byte("@order"), []byte(placed.OrderID))
		req := fuzzRequest(route, method, id, rawPath, rawQuery, b)
		caller %= callerCount
		if caller == callerStripe {
			req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
				Payload: b, Secret: webhookSecret, Timestamp: time.Now()}).Header)
		} else if tokens[caller] != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[caller])
		}
		if name, value, ok := strings.Cut(header, ":"); ok {
			req.Header[http.CanonicalHeaderKey(strings.TrimSpace(name))] = []string{strings.TrimSpace(value)}
		}
		if req.Header.Get("If-None-Match") != "" {
			ctx, hangUp := context.WithCancel(req.Context())
			defer hangUp()
			defer time.AfterFunc(fuzzPatience, hangUp).Stop()
			req = req.WithContext(ctx)
		}
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code == clientClosedRequest && req.Context().Err() != nil {
			return // the fuzzer hung up before the answer was ready: nobody reads it
		}
		if rec.Code >= http.StatusInternalServerError {
			t.Fatalf("%s %s?%s (headers %q) with %q answered %d: %s", req.Method, req.URL.Path, req.URL.RawQuery,
				req.Header, b, rec.Code, rec.Body.Bytes())
		}
		if err := openapitest.Check(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("with %q: %v", b, err)
		}
	})
}

// fuzzRequest builds the request the way net/http's server would hand it over, but without
// refusing anything, so the router sees what a lenient proxy might pass on.
func fuzzRequest(route uint8, method, id, rawPath, rawQuery string, body []byte) *http.Request {
	path := "/" + rawPath
	if int(route) < len(fuzzRoutes) {
		method, path = fuzzRoutes[route].method, strings.ReplaceAll(fuzzRoutes[route].path, "{id}", id)
	}
	if method == "" {
		method = http.MethodGet
	}
	req := (&http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}, Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Host: "wolfix.test", RemoteAddr: "192.0.2.1:4321",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}).WithContext(context.Background())
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}
