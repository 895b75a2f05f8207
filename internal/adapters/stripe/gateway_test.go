package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

const testKey = "sk_test_wolfixAdapterTests0123456789"

func TestConformanceAgainstStripeMock(t *testing.T) {
	mockURL := testenv.StripeMockURL(t)
	porttest.RunGateway(t, func(t *testing.T) app.PaymentGateway {
		return newGateway(t, stripe.Config{APIURL: mockURL})
	}, porttest.GatewayFeatures{
		StripeShapedIDs:        true,
		Fixtures:               true,
		IgnoresIdempotencyKeys: true,
		OmitsMetadata:          true,
		AnyIDExists:            true,
	})
}

func TestCreateIntentSendsWhatStripeNeeds(t *testing.T) {
	rec := &recorder{}
	gw := newGateway(t, stripe.Config{APIURL: testenv.StripeMockURL(t), Transport: rec})
	req := porttest.NewRequest(t, 45998)
	in, err := gw.CreateIntent(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateIntent: %v", err)
	}
	if in.ID == "" || in.ClientSecret == "" || in.Amount != 45998 || in.Currency != "usd" {
		t.Errorf("intent = %+v; want stripe-mock's id and client secret for 45998 usd", in)
	}
	got := rec.only(t)
	wantForm := map[string]string{
		"amount":                             "45998",
		"currency":                           "usd",
		"metadata[order_id]":                 req.OrderID,
		"metadata[payment_id]":               req.PaymentID,
		"automatic_payment_methods[enabled]": "true",
		"receipt_email":                      req.ReceiptEmail,
		"description":                        req.Description,
	}
	for k, want := range wantForm {
		if v := got.form.Get(k); v != want {
			t.Errorf("form %s = %q; want %q", k, v, want)
		}
	}
	wantHeader := map[string]string{
		"Idempotency-Key": req.PaymentID,
		"Stripe-Version":  stripe.Version,
		"Authorization":   "Bearer " + testKey,
	}
	for k, want := range wantHeader {
		if v := got.header.Get(k); v != want {
			t.Errorf("header %s = %q; want %q", k, v, want)
		}
	}
	if got.method != http.MethodPost || got.path != "/v1/payment_intents" {
		t.Errorf("request = %s %s; want POST /v1/payment_intents", got.method, got.path)
	}
}

func TestRefundSendsItsOwnIdempotencyKey(t *testing.T) {
	rec := &recorder{}
	gw := newGateway(t, stripe.Config{APIURL: testenv.StripeMockURL(t), Transport: rec})
	amount, _ := money.New(1200, money.USD)
	tests := []struct {
		name       string
		req        app.RefundRequest
		wantAmount string
		wantReason string
	}{
		{"partial, Stripe reason", app.RefundRequest{RefundID: "rf-1", IntentID: "pi_123", Amount: amount, Reason: "requested_by_customer"}, "1200", "requested_by_customer"},
		{"full, free-text reason", app.RefundRequest{RefundID: "rf-2", IntentID: "pi_123", Reason: "damaged in transit"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.reset()
			if _, err := gw.Refund(context.Background(), tt.req); err != nil {
				t.Fatalf("Refund: %v", err)
			}
			got := rec.only(t)
			if got.path != "/v1/refunds" || got.header.Get("Idempotency-Key") != tt.req.RefundID ||
				got.form.Get("payment_intent") != tt.req.IntentID || got.form.Get("amount") != tt.wantAmount ||
				got.form.Get("reason") != tt.wantReason || got.form.Get("metadata[reason]") != tt.req.Reason ||
				got.form.Get("metadata[refund_id]") != tt.req.RefundID {
				t.Errorf("request %s key=%q form=%v; want refund %+v", got.path, got.header.Get("Idempotency-Key"), got.form, tt.req)
			}
		})
	}
}

func TestStripeMockRejectsABadKey(t *testing.T) {
	gw := newGateway(t, stripe.Config{APIURL: testenv.StripeMockURL(t), SecretKey: "not-a-stripe-key"})
	_, err := gw.GetIntent(context.Background(), "pi_123")
	if !errors.Is(err, app.ErrProviderRejected) {
		t.Errorf("error = %v; want %v", err, app.ErrProviderRejected)
	}
}

func TestUnreachableStripeIsUnavailableAfterBoundedRetries(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	rec := &recorder{}
	gw := newGateway(t, stripe.Config{APIURL: closed.URL, Transport: rec, MaxRetries: 1})
	_, err := gw.CreateIntent(context.Background(), porttest.NewRequest(t, 1000))
	if !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("error = %v; want %v", err, app.ErrProviderUnavailable)
	}
	if n := rec.count(); n != 2 {
		t.Errorf("attempts = %d; want 2 (one retry)", n)
	}
	keys := rec.headers("Idempotency-Key")
	if len(keys) == 2 && keys[0] != keys[1] {
		t.Errorf("the retry changed the Idempotency-Key: %q then %q", keys[0], keys[1])
	}
}

func TestCallTimeoutBoundsASlowStripe(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	gw := newGateway(t, stripe.Config{APIURL: slow.URL, CallTimeout: 100 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := gw.GetIntent(context.Background(), "pi_123")
	if !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("error = %v; want %v", err, app.ErrProviderUnavailable)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("GetIntent took %v; want about the 100ms call timeout", took)
	}
}

func TestRetryableAnswersAreRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			writeError(w, http.StatusServiceUnavailable, `{"error":{"type":"api_error","message":"try later"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"pi_1","object":"payment_intent","amount":1000,"currency":"usd","status":"succeeded","metadata":{"order_id":"o-1"}}`)
	}))
	t.Cleanup(srv.Close)
	gw := newGateway(t, stripe.Config{APIURL: srv.URL, MaxRetries: 2})
	in, err := gw.GetIntent(context.Background(), "pi_1")
	if err != nil {
		t.Fatalf("GetIntent: %v", err)
	}
	want := payment.Intent{ID: "pi_1", Amount: 1000, Currency: "usd", Status: payment.IntentSucceeded, OrderID: "o-1"}
	if in != want {
		t.Errorf("intent = %+v; want %+v", in, want)
	}
	if calls != 2 {
		t.Errorf("calls = %d; want 2", calls)
	}
}

func TestGetIntentReadsRefundsAndFailures(t *testing.T) {
	var query url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"pi_1","object":"payment_intent","amount":5000,"currency":"eur","status":"requires_payment_method",
			"client_secret":"pi_1_secret_x","metadata":{"order_id":"o-1"},
			"latest_charge":{"id":"ch_1","object":"charge","amount_refunded":300},
			"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`)
	}))
	t.Cleanup(srv.Close)
	in, err := newGateway(t, stripe.Config{APIURL: srv.URL}).GetIntent(context.Background(), "pi_1")
	if err != nil {
		t.Fatalf("GetIntent: %v", err)
	}
	want := payment.Intent{ID: "pi_1", ClientSecret: "pi_1_secret_x", Amount: 5000, Currency: "eur",
		Status: payment.IntentRequiresPaymentMethod, OrderID: "o-1", AmountRefunded: 300,
		LastErrorCode: "insufficient_funds", LastErrorMessage: "Your card has insufficient funds."}
	if in != want {
		t.Errorf("intent = %+v; want %+v", in, want)
	}
	if got := query.Get("expand[0]"); got != "latest_charge" {
		t.Errorf("expand[0] = %q; want latest_charge", got)
	}
}

func TestErrorMapping(t *testing.T) {
	const secret = "pi_3Leak_secret_mustNotAppear"
	tests := []struct {
		name        string
		status      int
		body        string
		want        error
		wantMessage string
	}{
		{"invalid request", 400, `{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","message":"Invalid integer"}}`, app.ErrProviderRejected, ""},
		{"authentication", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`, app.ErrProviderRejected, ""},
		{"permission", 403, `{"error":{"type":"invalid_request_error","message":"restricted key"}}`, app.ErrProviderRejected, ""},
		{"idempotency", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, app.ErrProviderRejected, ""},
		{"missing intent", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"intent","message":"No such payment_intent: 'pi_x'"}}`, app.ErrIntentNotFound, ""},
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`, app.ErrProviderRejected, "card_declined"},
		{"insufficient funds", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`, app.ErrProviderRejected, "insufficient_funds"},
		{"expired card", 402, `{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired.","payment_intent":{"id":"pi_3Leak","client_secret":"` + secret + `"}}}`, app.ErrProviderRejected, "expired_card"},
		{"rate limit", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`, app.ErrProviderUnavailable, ""},
		{"api error", 500, `{"error":{"type":"api_error","message":"Something went wrong"}}`, app.ErrProviderUnavailable, ""},
		{"unavailable", 503, `{"error":{"type":"api_error","message":"down"}}`, app.ErrProviderUnavailable, ""},
		{"not JSON", 502, `<html>bad gateway</html>`, app.ErrProviderUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, tt.status, tt.body)
			}))
			t.Cleanup(srv.Close)
			gw := newGateway(t, stripe.Config{APIURL: srv.URL, MaxRetries: -1})
			_, err := gw.CreateIntent(context.Background(), porttest.NewRequest(t, 1000))
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v; want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not name %q", err, tt.wantMessage)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q carries a client secret", err)
			}
		})
	}
}

func TestNewNeedsASecretKey(t *testing.T) {
	if _, err := stripe.New(stripe.Config{SecretKey: " "}); !errors.Is(err, stripe.ErrNoSecretKey) {
		t.Errorf("error = %v; want %v", err, stripe.ErrNoSecretKey)
	}
}

func newGateway(t *testing.T, cfg stripe.Config) *stripe.Gateway {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = testKey
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	gw, err := stripe.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return gw
}

func writeError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// recorder is an http.RoundTripper that notes each request before sending it on.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	form         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), form: form})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) headers(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var vs []string
	for _, req := range r.reqs {
		vs = append(vs, req.header.Get(name))
	}
	return vs
}

func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) != 1 {
		t.Fatalf("%d requests sent; want 1", len(r.reqs))
	}
	return r.reqs[0]
}
