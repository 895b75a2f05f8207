package stripe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	stripeapi "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

const whSecret = "whsec_wolfixVerifierTests0123456789"

func event(typ, apiVersion, object string) []byte {
	return fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":%q,"created":1700000000,"type":%q,"data":{"object":%s}}`,
		apiVersion, typ, object)
}

func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func TestVerifyAcceptsSignedEvents(t *testing.T) {
	const intent = `{"id":"pi_1","object":"payment_intent","amount":1000,"currency":"usd","status":"succeeded","metadata":{"order_id":"o-1"}}`
	tests := []struct {
		name       string
		payload    []byte
		wantType   payment.EventType
		wantIntent string
		wantAPI    string
	}{
		{"payment_intent.succeeded", event("payment_intent.succeeded", stripe.Version, intent), payment.EventIntentSucceeded, "pi_1", stripe.Version},
		{"another API version is accepted", event("payment_intent.succeeded", "2020-08-27", intent), payment.EventIntentSucceeded, "pi_1", "2020-08-27"},
		{"a newer API version is accepted", event("payment_intent.payment_failed", "2025-03-31.basil", intent), payment.EventIntentPaymentFailed, "pi_1", "2025-03-31.basil"},
		{"charge.refunded", event("charge.refunded", stripe.Version, `{"id":"ch_1","object":"charge","payment_intent":"pi_2","amount_refunded":500}`), payment.EventChargeRefunded, "pi_2", stripe.Version},
		{"refund.updated", event("refund.updated", stripe.Version, `{"id":"re_1","object":"refund","payment_intent":"pi_3","status":"succeeded"}`), payment.EventRefundUpdated, "pi_3", stripe.Version},
		{"dispute with expanded intent", event("charge.dispute.created", stripe.Version, `{"id":"dp_1","object":"dispute","payment_intent":{"id":"pi_4","object":"payment_intent"},"status":"needs_response","reason":"fraudulent","amount":1000,"currency":"usd"}`), payment.EventDisputeCreated, "pi_4", stripe.Version},
		{"unrelated event", event("customer.created", stripe.Version, `{"id":"cus_1","object":"customer"}`), "customer.created", "", stripe.Version},
	}
	v := newVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := v.Verify(tt.payload, sign(tt.payload, whSecret, time.Now()))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ev.ID != "evt_1" || ev.Type != tt.wantType || ev.IntentID != tt.wantIntent ||
				ev.APIVersion != tt.wantAPI || string(ev.Payload) != string(tt.payload) {
				t.Errorf("event = {%s %s %s %s}; want {evt_1 %s %s %s}", ev.ID, ev.Type, ev.IntentID, ev.APIVersion,
					tt.wantType, tt.wantIntent, tt.wantAPI)
			}
			if isDispute := ev.Type == payment.EventDisputeCreated; isDispute != (ev.Dispute != nil) {
				t.Errorf("Dispute = %+v for a %s event", ev.Dispute, ev.Type)
			}
		})
	}
}

func TestVerifyReadsDisputes(t *testing.T) {
	payload := event("charge.dispute.closed", "2024-06-20", `{"id":"dp_1","object":"dispute","charge":"ch_1","payment_intent":"pi_9","status":"lost","reason":"product_not_received","amount":4599,"currency":"usd"}`)
	ev, err := newVerifier(t).Verify(payload, sign(payload, whSecret, time.Now()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := payment.DisputeReport{Status: "lost", Reason: "product_not_received", Amount: 4599, Currency: "usd"}
	if ev.IntentID != "pi_9" || ev.Dispute == nil || *ev.Dispute != want {
		t.Errorf("event intent %s dispute %+v; want pi_9 %+v", ev.IntentID, ev.Dispute, want)
	}
}

func TestVerifyRefuses(t *testing.T) {
	payload := event("payment_intent.succeeded", stripe.Version, `{"id":"pi_1","object":"payment_intent"}`)
	now := time.Now()
	tests := []struct {
		name    string
		payload []byte
		header  string
		want    error
	}{
		{"unsigned", payload, "", app.ErrWebhookSignature},
		{"garbage header", payload, "not a signature", app.ErrWebhookSignature},
		{"no v1 signature", payload, fmt.Sprintf("t=%d", now.Unix()), app.ErrWebhookSignature},
		{"wrong secret", payload, sign(payload, "whsec_somebodyElse", now), app.ErrWebhookSignature},
		{"tampered body", append([]byte(nil), payload...), sign(event("payment_intent.succeeded", stripe.Version, `{"id":"pi_2","object":"payment_intent"}`), whSecret, now), app.ErrWebhookSignature},
		{"stale timestamp", payload, sign(payload, whSecret, now.Add(-stripe.Tolerance-time.Minute)), app.ErrWebhookSignature},
		{"signed, not JSON", []byte("hello"), sign([]byte("hello"), whSecret, now), app.ErrWebhookPayload},
		{"signed, no id", []byte(`{"type":"payment_intent.succeeded","data":{"object":{}}}`), sign([]byte(`{"type":"payment_intent.succeeded","data":{"object":{}}}`), whSecret, now), app.ErrWebhookPayload},
	}
	v := newVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(tt.payload, tt.header); !errors.Is(err, tt.want) {
				t.Errorf("error = %v; want %v", err, tt.want)
			}
		})
	}
}

// The replay window is pinned in seconds, not relative to stripe.Tolerance, so that a change of
// the constant fails here.
func TestVerifyTimestampWindowBothWays(t *testing.T) {
	payload := event("payment_intent.canceled", stripe.Version, `{"id":"pi_1","object":"payment_intent"}`)
	now := time.Unix(1_800_000_000, 0)
	v, err := stripe.NewVerifierWithClock(whSecret, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		signedAt time.Time
		ok       bool
	}{
		{"signed now", now, true},
		{"299 s old", now.Add(-299 * time.Second), true},
		{"301 s old", now.Add(-301 * time.Second), false},
		{"299 s in the future", now.Add(299 * time.Second), true},
		{"301 s in the future", now.Add(301 * time.Second), false},
		{"an hour in the future", now.Add(time.Hour), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(payload, sign(payload, whSecret, tc.signedAt))
			if tc.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, app.ErrWebhookSignature) {
				t.Errorf("error = %v; want %v", err, app.ErrWebhookSignature)
			}
		})
	}
}

// Values the service stores from an event must be identifiers: a NUL byte in one would be refused
// by PostgreSQL after the event was accepted, and Stripe would retry it forever.
func TestVerifyRefusesTextThatCannotBeStored(t *testing.T) {
	for name, payload := range map[string][]byte{
		"NUL in the event id": []byte(`{"id":"evt_\u0000","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`),
		"NUL in the type":     []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded\u0000","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`),
		"NUL in the intent":   event("payment_intent.succeeded", stripe.Version, `{"id":"pi_\u0000","object":"payment_intent"}`),
		"NUL in a reference":  event("charge.refunded", stripe.Version, `{"id":"ch_1","object":"charge","payment_intent":"pi_1\u0000"}`),
		"NUL in a reason":     event("charge.dispute.created", stripe.Version, `{"id":"dp_1","object":"dispute","payment_intent":"pi_1","status":"needs_response","reason":"fraud\u0000","amount":1,"currency":"usd"}`),
		"NUL in api_version":  event("payment_intent.succeeded", "2024\u0000", `{"id":"pi_1","object":"payment_intent"}`),
		"over-long event id":  []byte(`{"id":"evt_` + strings.Repeat("x", 300) + `","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := newVerifier(t).Verify(payload, sign(payload, whSecret, time.Now())); !errors.Is(err, app.ErrWebhookPayload) {
				t.Errorf("Verify error = %v; want %v", err, app.ErrWebhookPayload)
			}
		})
	}
}

func TestNewVerifierNeedsASecret(t *testing.T) {
	if _, err := stripe.NewVerifier(""); !errors.Is(err, stripe.ErrNoWebhookSecret) {
		t.Errorf("error = %v; want %v", err, stripe.ErrNoWebhookSecret)
	}
}

func newVerifier(t testing.TB) *stripe.Verifier {
	t.Helper()
	v, err := stripe.NewVerifier(whSecret)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecodeRebuildsWhatVerifyReturned(t *testing.T) {
	payloads := map[string][]byte{
		"succeeded":        event("payment_intent.succeeded", stripe.Version, `{"id":"pi_1","object":"payment_intent","status":"succeeded","metadata":{"order_id":"o-1"}}`),
		"other version":    event("payment_intent.payment_failed", "2025-03-31.basil", `{"id":"pi_1","object":"payment_intent"}`),
		"refund":           event("refund.updated", stripe.Version, `{"id":"re_1","object":"refund","payment_intent":"pi_3","status":"succeeded"}`),
		"dispute created":  event("charge.dispute.created", stripe.Version, `{"id":"dp_1","object":"dispute","payment_intent":{"id":"pi_4","object":"payment_intent"},"status":"needs_response","reason":"fraudulent","amount":1000,"currency":"usd"}`),
		"dispute closed":   event("charge.dispute.closed", "2024-06-20", `{"id":"dp_1","object":"dispute","charge":"ch_1","payment_intent":"pi_9","status":"lost","reason":"product_not_received","amount":4599,"currency":"usd"}`),
		"unrelated object": event("customer.created", stripe.Version, `{"id":"cus_1","object":"customer"}`),
	}
	v := newVerifier(t)
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			verified, err := v.Verify(payload, sign(payload, whSecret, time.Now()))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			decoded, err := v.Decode(payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(decoded, verified) {
				t.Errorf("Decode = %+v (dispute %+v)\nVerify = %+v (dispute %+v)", decoded, decoded.Dispute, verified, verified.Dispute)
			}
		})
	}
}

func TestDecodeReadsDisputeDetails(t *testing.T) {
	payload := event("charge.dispute.closed", "2024-06-20", `{"id":"dp_1","object":"dispute","payment_intent":"pi_9","status":"won","reason":"fraudulent","amount":4599,"currency":"eur"}`)
	ev, err := newVerifier(t).Decode(payload)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := payment.DisputeReport{Status: "won", Reason: "fraudulent", Amount: 4599, Currency: "eur"}
	if ev.ID != "evt_1" || ev.Type != payment.EventDisputeClosed || ev.IntentID != "pi_9" || ev.APIVersion != "2024-06-20" ||
		ev.Dispute == nil || *ev.Dispute != want || string(ev.Payload) != string(payload) {
		t.Errorf("event = %+v dispute %+v; want evt_1 %s pi_9 2024-06-20 %+v", ev, ev.Dispute, payment.EventDisputeClosed, want)
	}
}

// Decode is for payloads verified on receipt: it checks no signature and no age, so a payload
// stored long ago still replays.
func TestDecodeIgnoresSignatureAndAge(t *testing.T) {
	payload := []byte(`{"id":"evt_old","object":"event","api_version":"2023-10-16","created":1500000000,"type":"payment_intent.canceled","data":{"object":{"id":"pi_7","object":"payment_intent"}}}`)
	ev, err := newVerifier(t).Decode(payload)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if ev.ID != "evt_old" || ev.Type != payment.EventIntentCanceled || ev.IntentID != "pi_7" {
		t.Errorf("event = %+v", ev)
	}
}

func TestDecodeRefusesWhatIsNotAnEvent(t *testing.T) {
	for name, payload := range map[string]string{
		"empty":                 ``,
		"not JSON":              `hello`,
		"no id":                 `{"type":"payment_intent.succeeded","data":{"object":{}}}`,
		"no type":               `{"id":"evt_1","data":{"object":{}}}`,
		"no data":               `{"id":"evt_1","type":"payment_intent.succeeded"}`,
		"object not an object":  `{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":"pi_1"}}`,
		"data without object":   `{"id":"evt_1","type":"payment_intent.succeeded","data":{}}`,
		"data null":             `{"id":"evt_1","type":"payment_intent.succeeded","data":null}`,
		"intent reference junk": `{"id":"evt_1","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":17}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := newVerifier(t).Decode([]byte(payload)); !errors.Is(err, app.ErrWebhookPayload) {
				t.Errorf("error = %v; want %v", err, app.ErrWebhookPayload)
			}
		})
	}
}

// FuzzDecodeReadsWhatStripeGoReads holds Decode, which reads only the fields the service needs, to
// stripe-go's own decoding of an event: whatever Decode accepts, stripe-go reads with the same id,
// type and api_version, and an event that stripe-go finds without an id, type or data, Decode
// refuses.
func FuzzDecodeReadsWhatStripeGoReads(f *testing.F) {
	f.Add(event("payment_intent.succeeded", stripe.Version, `{"id":"pi_1","object":"payment_intent"}`))
	f.Add(event("charge.dispute.created", stripe.Version, `{"id":"dp_1","payment_intent":{"id":"pi_4"},"status":"needs_response","amount":1000,"currency":"usd"}`))
	f.Add([]byte(`{"ID":"evt_1","TYPE":"refund.updated","data":{"object":{"payment_intent":"pi_3"}},"type":"refund.created"}`))
	f.Add([]byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{}}`))
	f.Add([]byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":null}`))
	v := newVerifier(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := v.Decode(payload)
		var full stripeapi.Event
		if json.Unmarshal(payload, &full) != nil {
			return // stripe-go refuses it whole; Decode may still read the fields it needs
		}
		if full.ID == "" || full.Type == "" || full.Data == nil {
			if err == nil {
				t.Fatalf("Decode accepted %q, which stripe-go reads without an id, type or data", payload)
			}
			return
		}
		if err == nil && (ev.ID != full.ID || string(ev.Type) != string(full.Type) || ev.APIVersion != full.APIVersion) {
			t.Fatalf("Decode read %q/%q/%q, stripe-go %q/%q/%q", ev.ID, ev.Type, ev.APIVersion, full.ID, full.Type, full.APIVersion)
		}
	})
}

// BenchmarkVerifyWebhook verifies and decodes a signed payment_intent.succeeded the size Stripe
// sends (the intent whole).
func BenchmarkVerifyWebhook(b *testing.B) {
	object := `{"id":"pi_3OeX","object":"payment_intent","amount":4599,"amount_capturable":0,"amount_received":4599,` +
		`"capture_method":"automatic","client_secret":"pi_3OeX_secret_x","confirmation_method":"automatic","created":1700000000,` +
		`"currency":"eur","latest_charge":"ch_3OeX","livemode":false,"metadata":{"order_id":"8c1f0e0a-2b7e-4f7e-9d59-3f0a0c1b2d3e"},` +
		`"payment_method":"pm_1","payment_method_types":["card"],"status":"succeeded"}`
	payload := event("payment_intent.succeeded", stripe.Version, object)
	header := sign(payload, whSecret, time.Now())
	v := newVerifier(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(payload, header); err != nil {
			b.Fatal(err)
		}
	}
}
