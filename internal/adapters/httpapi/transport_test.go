package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
)

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	h := newHarness(t)
	h.do(request{method: http.MethodGet, path: "/api/nothing-here"}).wantProblem(t, http.StatusNotFound, "route_not_found")
	h.do(request{method: http.MethodGet, path: "/api/products/"}).wantProblem(t, http.StatusNotFound, "route_not_found")
	r := h.do(request{method: http.MethodDelete, path: "/api/products"})
	r.wantProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q; want GET and POST", allow)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"a sane id is kept", "trace-01HZX.abc:42", true},
		{"none is generated", "", false},
		{"an id with spaces is replaced", "hello world", false},
		{"an overlong id is replaced", strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(request{method: http.MethodGet, path: "/api/orders", header: map[string]string{httpapi.RequestIDHeader: tc.sent}})
			got := r.header.Get(httpapi.RequestIDHeader)
			if tc.kept && got != tc.sent || !tc.kept && (got == "" || got == tc.sent) {
				t.Fatalf("X-Request-ID = %q for %q; kept = %v", got, tc.sent, tc.kept)
			}
			if p := r.wantProblem(t, http.StatusUnauthorized, "unauthenticated"); p.RequestID != got {
				t.Errorf("problem requestId = %q; want %q", p.RequestID, got)
			}
			if !h.logged(map[string]any{"msg": "http request", "request_id": got, "route": "/api/orders", "status": 401.0}) {
				t.Errorf("no access log line with request_id %q:\n%s", got, h.logs)
			}
		})
	}
}

func TestAppLogsCarryTheRequestID(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Lamp", 8900, 3)
	r := h.do(request{method: http.MethodPost, path: "/api/orders", token: token(t, "c1", app.RoleCustomer),
		body: orderBody(pid, "1"), header: map[string]string{httpapi.RequestIDHeader: "req-777"}})
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d (%s)", r.status, r.body)
	}
	if !h.logged(map[string]any{"msg": "order placed", "request_id": "req-777"}) {
		t.Errorf("the app's \"order placed\" line lacks request_id req-777:\n%s", h.logs)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	h := newHarness(t)
	pid := h.product("Headphones", 22649, 3)
	tok := token(t, "c1", app.RoleCustomer)
	var p placed
	h.do(request{method: http.MethodPost, path: "/api/orders/with-payment", token: tok, body: orderBody(pid, "1")}).decode(t, &p)
	intent := strings.Split(p.ClientSecret, "_secret_")[0]
	h.do(request{method: http.MethodPost, path: "/sandbox/payment-intents/" + intent + "/confirm",
		body: `{"clientSecret":"` + p.ClientSecret + `","cardNumber":"4000 0000 0000 9995"}`})
	h.awaitPayment(tok, p.OrderID, "Failed")
	h.do(request{method: http.MethodGet, path: "/api/orders/" + p.OrderID, token: tok})

	logs := h.logs.String()
	for _, secret := range []string{tok, p.ClientSecret, "_secret_", "4000 0000 0000 9995", "4000000000009995", "Bearer", "Authorization", "olena@example.com"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	if !h.logged(map[string]any{"msg": "http request", "route": "/api/orders/:orderId", "method": "GET", "status": 200.0}) {
		t.Errorf("no access log line with the route template:\n%s", logs)
	}
}

func TestPanicsBecomeOpaque500s(t *testing.T) {
	h := newHarness(t, func(c *httpapi.Config) {
		c.Checks = []httpapi.Check{{Name: "boom", Probe: func(context.Context) error { panic("secret internals") }}}
	})
	r := h.do(request{method: http.MethodGet, path: "/readyz", provokesBug: true})
	p := r.wantProblem(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "secret internals") || strings.Contains(p.Detail, "panic") {
		t.Errorf("the 500 leaks the panic: %s", r.body)
	}
	if !strings.Contains(h.logs.String(), "secret internals") {
		t.Error("the panic was not logged")
	}
	if r := h.do(request{method: http.MethodGet, path: "/healthz"}); r.status != http.StatusOK {
		t.Errorf("after a panic /healthz = %d; want 200", r.status)
	}
}

func TestHealthReadinessMetricsAndConfig(t *testing.T) {
	failing := errors.New("relay stalled")
	h := newHarness(t, func(c *httpapi.Config) {
		c.Checks = append(c.Checks, httpapi.Check{Name: "relay", Probe: func(context.Context) error { return failing }})
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8") // as promhttp answers
			_, _ = io.WriteString(w, "wolfix_up 1\n")
		})
		c.Public.StripePublishableKey = "pk_test_123"
	})
	if r := h.do(request{method: http.MethodGet, path: "/healthz"}); r.status != http.StatusOK {
		t.Errorf("/healthz = %d; want 200", r.status)
	}
	p := h.do(request{method: http.MethodGet, path: "/readyz"}).wantProblem(t, http.StatusServiceUnavailable, "not_ready")
	if !strings.Contains(p.Detail, "relay") || strings.Contains(p.Detail, "database") {
		t.Errorf("readyz detail = %q; want the relay named, not the database", p.Detail)
	}
	if r := h.do(request{method: http.MethodGet, path: "/metrics"}); r.status != http.StatusOK || string(r.body) != "wolfix_up 1\n" {
		t.Errorf("/metrics = %d %q; want the mounted handler", r.status, r.body)
	}
	var cfg map[string]any
	h.do(request{method: http.MethodGet, path: "/api/config"}).decode(t, &cfg)
	if cfg["stripePublishableKey"] != "pk_test_123" || cfg["provider"] != "sandbox" || cfg["currency"] != "USD" {
		t.Errorf("/api/config = %v", cfg)
	}

	ready := newHarness(t)
	if r := ready.do(request{method: http.MethodGet, path: "/readyz"}); r.status != http.StatusOK {
		t.Errorf("/readyz with a live database = %d; want 200 (%s)", r.status, r.body)
	}
	if r := ready.do(request{method: http.MethodGet, path: "/metrics"}); r.status != http.StatusNotFound {
		t.Errorf("/metrics without a handler = %d; want 404", r.status)
	}
}

func TestWebhookSignatures(t *testing.T) {
	h := newHarness(t)
	payload := []byte(`{"id":"evt_test_1","object":"event","type":"customer.created","api_version":"2023-10-16","created":1700000000,"data":{"object":{"id":"cus_1","object":"customer"}}}`)
	sign := func(secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
	}
	tests := []struct {
		name, signature string
		status          int
		code            string
	}{
		{"unsigned", "", 400, "webhook_signature_invalid"},
		{"garbage signature", "t=1,v1=deadbeef", 400, "webhook_signature_invalid"},
		{"signed with another secret", sign("whsec_other", time.Now()), 400, "webhook_signature_invalid"},
		{"stale timestamp", sign(webhookSecret, time.Now().Add(-time.Hour)), 400, "webhook_signature_invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.do(request{method: http.MethodPost, path: "/webhooks/stripe", body: string(payload),
				header: map[string]string{"Stripe-Signature": tc.signature}}).wantProblem(t, tc.status, tc.code)
		})
	}
	r := h.do(request{method: http.MethodPost, path: "/webhooks/stripe", body: string(payload),
		header: map[string]string{"Stripe-Signature": sign(webhookSecret, time.Now())}})
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"received":true}` {
		t.Errorf("signed event: %d %s; want 200 {\"received\":true}", r.status, r.body)
	}
}

// logged reports whether some JSON log line has all of want's keys with want's values.
func (h *harness) logged(want map[string]any) bool {
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		match := true
		for k, v := range want {
			if rec[k] != v {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
