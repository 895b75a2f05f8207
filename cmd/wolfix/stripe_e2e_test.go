package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

// The Stripe end-to-end tests run the real binary against stripe-mock (Stripe's OpenAPI-driven
// mock; it validates requests and answers with fixtures, keeping no state), through a recording
// reverse proxy that also plays the outages. Every key below is a made-up test value.
const (
	e2eStripeKey         = "sk_test_wolfixE2EOnlyNotARealKey0000"
	e2eStripeLiveKey     = "sk_live_wolfixE2EOnlyNotARealKey0000"
	e2eStripeWebhook     = "whsec_wolfixE2EOnlyNotARealSecret0000"
	e2eStripePublishable = "pk_test_wolfixE2EOnlyNotARealKey0000"
	stripeAPIVersion     = "2023-10-16" // what stripe-go v76 pins; the adapter sends it on every request
)

func stripeEnv(apiURL string) []string {
	return []string{"WOLFIX_STRIPE_SECRET_KEY=" + e2eStripeKey, "WOLFIX_STRIPE_WEBHOOK_SECRET=" + e2eStripeWebhook,
		"WOLFIX_STRIPE_PUBLISHABLE_KEY=" + e2eStripePublishable, "WOLFIX_STRIPE_API_URL=" + apiURL}
}

// stripeCall is one request the proxy passed to stripe-mock, with stripe-mock's answer.
type stripeCall struct {
	method, path string
	header       http.Header
	form         url.Values
	status       int
	response     map[string]any
}

// stripeProxy is a recording reverse proxy in front of stripe-mock. While down, it hangs up on
// every request without answering, as an unreachable Stripe would.
type stripeProxy struct {
	srv     *httptest.Server
	down    atomic.Bool
	refused atomic.Int64 // requests hung up on while down

	mu    sync.Mutex
	calls []stripeCall
}

func newStripeProxy(t *testing.T, mockURL string) *stripeProxy {
	t.Helper()
	target, err := url.Parse(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &stripeProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		var answer map[string]any
		_ = json.Unmarshal(raw, &answer)
		call := resp.Request.Context().Value(callKey{}).(*stripeCall)
		call.status, call.response = resp.StatusCode, answer
		p.mu.Lock()
		p.calls = append(p.calls, *call)
		p.mu.Unlock()
		return nil
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			p.refused.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		form, _ := url.ParseQuery(string(raw))
		call := &stripeCall{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), form: form}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, call)))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

type callKey struct{}

func (p *stripeProxy) URL() string { return p.srv.URL }

// creates returns the PaymentIntent creations stripe-mock answered.
func (p *stripeProxy) creates() []stripeCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []stripeCall
	for _, c := range p.calls {
		if c.method == http.MethodPost && c.path == "/v1/payment_intents" {
			out = append(out, c)
		}
	}
	return out
}

// TestE2EStripe walks the card checkout on the Stripe adapter through the real binary: the
// PaymentIntent Stripe receives, signed and refused webhooks, an outage at checkout, and the
// logs of all of it at debug level.
func TestE2EStripe(t *testing.T) {
	proxy := newStripeProxy(t, testenv.StripeMockURL(t))
	s := startService(t, stripeEnv(proxy.URL())...)
	cust := s.token("stripe-cust-1", "customer")

	var clientSecret, orderID, intentID string
	var total int64
	t.Run("checkout opens a PaymentIntent on Stripe", func(t *testing.T) {
		cfg := s.do(http.MethodGet, "/api/config", "", nil)
		s.expect(cfg, http.StatusOK, "")
		if cfg.body["provider"] != "stripe" || cfg.body["stripePublishableKey"] != e2eStripePublishable {
			t.Fatalf("/api/config = %s; want provider stripe and the publishable key", cfg.raw)
		}
		p := s.pickProduct(2)
		r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 2))
		s.expect(r, http.StatusCreated, "")
		orderID, _ = r.body["orderId"].(string)
		clientSecret, _ = r.body["clientSecret"].(string)
		total = minorOf(t, r.body["totalAmount"])
		if want := 2*p.price + courierFeeMinor; total != want {
			t.Fatalf("totalAmount = %d; want %d", total, want)
		}

		creates := proxy.creates()
		if len(creates) != 1 {
			t.Fatalf("stripe-mock saw %d PaymentIntent creations; want 1", len(creates))
		}
		c := creates[0]
		if c.status != http.StatusOK {
			t.Fatalf("stripe-mock answered %d: %v", c.status, c.response)
		}
		intentID, _ = c.response["id"].(string)
		if want, _ := c.response["client_secret"].(string); clientSecret == "" || clientSecret != want {
			t.Fatalf("clientSecret = %q; want stripe-mock's %q", clientSecret, want)
		}
		for field, want := range map[string]string{
			"amount":                             fmt.Sprint(total),
			"currency":                           "usd",
			"metadata[order_id]":                 orderID,
			"automatic_payment_methods[enabled]": "true",
			"receipt_email":                      "olena@example.com",
		} {
			if got := c.form.Get(field); got != want {
				t.Errorf("stripe-mock received %s = %q; want %q", field, got, want)
			}
		}
		key := c.header.Get("Idempotency-Key")
		if key == "" || key != c.form.Get("metadata[payment_id]") {
			t.Errorf("Idempotency-Key = %q; want the payment id %q", key, c.form.Get("metadata[payment_id]"))
		}
		if got := c.header.Get("Stripe-Version"); got != stripeAPIVersion {
			t.Errorf("Stripe-Version = %q; want %s", got, stripeAPIVersion)
		}
		if got := c.header.Get("Authorization"); got != "Bearer "+e2eStripeKey {
			t.Errorf("the request was not authenticated with the configured key")
		}

		o := s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil)
		s.expect(o, http.StatusOK, "")
		pay, _ := o.body["payment"].(map[string]any)
		if o.body["status"] != "Pending" || o.body["paymentStatus"] != "Pending" || pay["provider"] != "stripe" || pay["intentId"] != intentID {
			t.Fatalf("order = %s; want Pending/Pending on stripe intent %s", o.raw, intentID)
		}
		if got := s.stockOf(p.id); got != p.stock-2 {
			t.Fatalf("stock = %d; want %d reserved", got, p.stock-2)
		}

		// A second checkout is a second payment: its own idempotency key.
		r2 := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
		s.expect(r2, http.StatusCreated, "")
		if creates = proxy.creates(); len(creates) != 2 || creates[1].header.Get("Idempotency-Key") == key {
			t.Fatalf("second checkout: %d creations, idempotency keys %q then %q", len(creates), key, creates[len(creates)-1].header.Get("Idempotency-Key"))
		}
	})

	t.Run("webhooks are accepted only when signed and fresh", func(t *testing.T) {
		if orderID == "" {
			t.Fatal("no order to test with: the checkout subtest failed")
		}
		now := time.Now()
		body := fmt.Sprintf(`{"id":"evt_e2e_dispute_%d","object":"event","api_version":%q,"created":%d,"type":"charge.dispute.created",`+
			`"data":{"object":{"id":"dp_e2e","object":"dispute","payment_intent":%q,"status":"needs_response","reason":"fraudulent","amount":%d,"currency":"usd"}}}`,
			now.UnixNano(), stripeAPIVersion, now.Unix(), intentID, total)
		before := s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil)
		s.expect(before, http.StatusOK, "")
		if before.body["dispute"] != nil {
			t.Fatalf("the order has a dispute before any event: %s", before.raw)
		}
		for name, sig := range map[string]string{
			"unsigned":                 "",
			"not a signature":          "nonsense",
			"no v1":                    fmt.Sprintf("t=%d", now.Unix()),
			"wrong secret":             stripeSignature("whsec_wolfixE2ESomeoneElse000", now, body),
			"older than the tolerance": stripeSignature(e2eStripeWebhook, now.Add(-300*time.Second-30*time.Second), body),
			"signature of another body": stripeSignature(e2eStripeWebhook, now,
				strings.Replace(body, `"fraudulent"`, `"duplicate"`, 1)),
		} {
			t.Run(name, func(t *testing.T) {
				r := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", sig)
				s.expect(r, http.StatusBadRequest, "")
				after := s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil)
				if !bytes.Equal(after.raw, before.raw) {
					t.Fatalf("a refused webhook changed the order:\nbefore %s\nafter  %s", before.raw, after.raw)
				}
			})
		}

		r := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", stripeSignature(e2eStripeWebhook, now, body))
		s.expect(r, http.StatusOK, "")
		if r.body["received"] != true || len(r.body) != 1 {
			t.Fatalf("got %s; want {\"received\":true}", r.raw)
		}
		o := s.waitOrder(orderID, cust, func(o map[string]any) bool { return o["dispute"] != nil })
		d := o["dispute"].(map[string]any)
		if d["status"] != "needs_response" || d["reason"] != "fraudulent" || minorOf(t, d["amount"]) != total {
			t.Fatalf("dispute = %v; want needs_response/fraudulent/%d", d, total)
		}
		if o["status"] != "Pending" || o["paymentStatus"] != "Pending" {
			t.Fatalf("the dispute changed the order's status to %v/%v", o["status"], o["paymentStatus"])
		}

		// The same delivery again is acknowledged and changes nothing.
		once := s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil)
		again := s.do(http.MethodPost, "/webhooks/stripe", "", body, "Stripe-Signature", stripeSignature(e2eStripeWebhook, time.Now(), body))
		s.expect(again, http.StatusOK, "")
		if twice := s.do(http.MethodGet, "/api/orders/"+orderID, cust, nil); !bytes.Equal(twice.raw, once.raw) {
			t.Fatalf("a duplicate delivery changed the order:\nbefore %s\nafter  %s", once.raw, twice.raw)
		}
	})

	t.Run("an outage at checkout leaves no order and no reservation", func(t *testing.T) {
		buyer := s.token("stripe-cust-outage", "customer")
		p := s.pickProduct(1)
		proxy.down.Store(true)
		defer proxy.down.Store(false)
		r := s.do(http.MethodPost, "/api/orders/with-payment", buyer, orderBody(p.id, 1))
		expectProviderOutage(s, r)
		// The adapter makes at most 1+2 attempts (stripe-go's retries); net/http may replay each
		// once more when a kept-alive connection turns out dead, as the request is idempotent
		// (it carries an Idempotency-Key). So 1 to 6 hang-ups, never an unbounded loop.
		if n := proxy.refused.Load(); n < 1 || n > 6 {
			t.Errorf("the service tried Stripe %d times; want 1 to 6 (bounded retries)", n)
		}
		expectNothingReserved(s, buyer, p)
	})

	t.Run("the flow goes on after the outage", func(t *testing.T) {
		p := s.pickProduct(1)
		r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
		s.expect(r, http.StatusCreated, "")
		id := r.body["orderId"].(string)
		// stripe-mock keeps no state, so what follows exercises the calls and their logs, not
		// Stripe's state machine: the re-read intent is a fixture that never says "succeeded".
		s.do(http.MethodPatch, "/api/orders/"+id+"/paid", cust, nil)
		if o := s.do(http.MethodGet, "/api/orders/"+id, cust, nil); o.body["paymentStatus"] == "Paid" {
			t.Fatalf("a stripe-mock fixture made the order paid: %s", o.raw)
		}
		s.expect(s.do(http.MethodPost, "/api/orders/"+id+"/cancel", cust, nil), http.StatusOK, "")
		if got := s.stockOf(p.id); got != p.stock {
			t.Fatalf("stock after cancel = %d; want %d released", got, p.stock)
		}
	})

	t.Run("no secret reaches the logs", func(t *testing.T) {
		if clientSecret == "" {
			t.Fatal("no client secret to look for: the checkout subtest failed")
		}
		expectNoSecretsLogged(t, s.logs.String(), e2eStripeKey, e2eStripeWebhook, clientSecret)
	})
}

// TestE2EStripeUnreachable points the API URL at a closed port: checkout answers 503 and leaves
// nothing behind.
func TestE2EStripeUnreachable(t *testing.T) {
	s := startService(t, stripeEnv("http://"+freeAddr(t))...)
	buyer := s.token("stripe-cust-unreachable", "customer")
	p := s.pickProduct(1)
	r := s.do(http.MethodPost, "/api/orders/with-payment", buyer, orderBody(p.id, 1))
	expectProviderOutage(s, r)
	expectNothingReserved(s, buyer, p)
	// Cash orders do not need the provider.
	s.expect(s.do(http.MethodPost, "/api/orders", buyer, orderBody(p.id, 1)), http.StatusCreated, "")
	expectNoSecretsLogged(t, s.logs.String(), e2eStripeKey, e2eStripeWebhook)
}

// TestE2EPaymentProviderSandboxBesideATestKey: WOLFIX_PAYMENT_PROVIDER=sandbox keeps the sandbox
// although a Stripe test key is configured; nothing goes to Stripe.
func TestE2EPaymentProviderSandboxBesideATestKey(t *testing.T) {
	proxy := newStripeProxy(t, "http://"+freeAddr(t))
	s := startService(t, append(stripeEnv(proxy.URL()), "WOLFIX_PAYMENT_PROVIDER=sandbox")...)
	cfg := s.do(http.MethodGet, "/api/config", "", nil)
	s.expect(cfg, http.StatusOK, "")
	if cfg.body["provider"] != "sandbox" {
		t.Fatalf("/api/config = %s; want provider sandbox", cfg.raw)
	}
	cust := s.token("sandbox-cust", "customer")
	p := s.pickProduct(1)
	r := s.do(http.MethodPost, "/api/orders/with-payment", cust, orderBody(p.id, 1))
	s.expect(r, http.StatusCreated, "")
	s.expect(s.confirmCard(r.body["clientSecret"].(string), cardOK), http.StatusOK, "")
	s.waitOrder(r.body["orderId"].(string), cust, func(o map[string]any) bool { return o["paymentStatus"] == "Paid" })
	if n := len(proxy.creates()) + int(proxy.refused.Load()); n != 0 {
		t.Fatalf("the sandbox sent %d requests to the Stripe API URL", n)
	}
}

// TestE2EStartUpRefusesUnsafePaymentSettings runs the binary with each unsafe combination: it
// must exit with status 2 and name the key to fix, without repeating any secret.
func TestE2EStartUpRefusesUnsafePaymentSettings(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		wantKey string
	}{
		{"a Stripe key without a webhook secret", []string{"WOLFIX_STRIPE_SECRET_KEY=" + e2eStripeKey}, "WOLFIX_STRIPE_WEBHOOK_SECRET"},
		{"a live key at a non-Stripe API URL", []string{"WOLFIX_STRIPE_SECRET_KEY=" + e2eStripeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET=" + e2eStripeWebhook, "WOLFIX_STRIPE_API_URL=http://" + freeAddr(t)}, "WOLFIX_STRIPE_API_URL"},
		{"the sandbox beside a live key", []string{"WOLFIX_PAYMENT_PROVIDER=sandbox",
			"WOLFIX_STRIPE_SECRET_KEY=" + e2eStripeLiveKey, "WOLFIX_STRIPE_WEBHOOK_SECRET=" + e2eStripeWebhook}, "WOLFIX_PAYMENT_PROVIDER"},
		{"stripe without a key", []string{"WOLFIX_PAYMENT_PROVIDER=stripe", "WOLFIX_STRIPE_WEBHOOK_SECRET=" + e2eStripeWebhook},
			"WOLFIX_STRIPE_SECRET_KEY"},
		{"an unknown provider", []string{"WOLFIX_PAYMENT_PROVIDER=paypal"}, "WOLFIX_PAYMENT_PROVIDER"},
		{"a live key on plain HTTP without a trusted proxy", []string{"WOLFIX_STRIPE_SECRET_KEY=" + e2eStripeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET=" + e2eStripeWebhook}, "WOLFIX_STRIPE_SECRET_KEY"},
	}
	bin := wolfixBinary(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve")
			cmd.Env = append(withoutPaymentEnv(os.Environ()), "WOLFIX_HTTP_ADDR="+freeAddr(t), "WOLFIX_DATA_DIR="+t.TempDir(),
				"WOLFIX_CONFIG="+filepath.Join("..", "..", "configs", "wolfix.yaml"), "WOLFIX_LOG_LEVEL=debug")
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.CombinedOutput()
			code := -1
			if exitErr, ok := err.(*exec.ExitError); ok {
				code = exitErr.ExitCode()
			} else if err == nil {
				code = 0
			}
			if code != 2 {
				t.Fatalf("exit status %d (%v); want 2; output:\n%s", code, err, out)
			}
			if !strings.Contains(string(out), c.wantKey) {
				t.Fatalf("the refusal does not name %s:\n%s", c.wantKey, out)
			}
			expectNoSecretsLogged(t, string(out), e2eStripeKey, e2eStripeLiveKey, e2eStripeWebhook)
		})
	}
}

// withoutPaymentEnv drops payment settings the test process may have inherited.
func withoutPaymentEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "WOLFIX_STRIPE_") && !strings.HasPrefix(kv, "WOLFIX_PAYMENT_PROVIDER=") {
			out = append(out, kv)
		}
	}
	return out
}

// expectProviderOutage checks the problem a checkout gets while Stripe cannot be reached.
func expectProviderOutage(s *service, r reply) {
	s.t.Helper()
	if r.status != http.StatusServiceUnavailable && r.status != http.StatusBadGateway {
		s.t.Fatalf("got %d; want 503 or 502: %s", r.status, r.raw)
	}
	s.expect(r, r.status, "payment_provider_unavailable")
	if _, has := r.body["clientSecret"]; has {
		s.t.Fatalf("a failed checkout returned a client secret: %s", r.raw)
	}
}

// expectNothingReserved checks that a failed checkout left no order and p's stock untouched.
func expectNothingReserved(s *service, token string, p product) {
	s.t.Helper()
	if got := s.stockOf(p.id); got != p.stock {
		s.t.Fatalf("stock of %s = %d after a failed checkout; want %d", p.id, got, p.stock)
	}
	list := s.do(http.MethodGet, "/api/orders", token, nil)
	s.expect(list, http.StatusOK, "")
	if items, _ := list.body["items"].([]any); len(items) != 0 {
		s.t.Fatalf("the customer has orders after a failed checkout: %s", list.raw)
	}
}

// secretShapes are the shapes of Stripe secrets: client secrets, secret and restricted keys,
// webhook signing secrets.
var secretShapes = regexp.MustCompile(`[A-Za-z0-9]_secret_[A-Za-z0-9]|\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]|\bwhsec_[A-Za-z0-9]`)

// expectNoSecretsLogged fails when logs hold any of the given secrets or anything shaped like one.
func expectNoSecretsLogged(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	if strings.TrimSpace(logs) == "" {
		t.Fatal("no logs were captured")
	}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%.12s…) appears in the logs", secret)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if loc := secretShapes.FindStringIndex(line); loc != nil {
			t.Errorf("a log line holds something shaped like a Stripe secret at %d: %.*s…", loc[0], loc[0], line)
		}
	}
}
