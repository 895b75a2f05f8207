package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) *sandbox.Gateway { return sandbox.New(sandbox.Config{}) })
}

func TestConformanceStored(t *testing.T) {
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		runConformance(t, func(t *testing.T) *sandbox.Gateway { return storedSandbox(open(), nil) })
	})
}

func runConformance(t *testing.T, newSandbox func(t *testing.T) *sandbox.Gateway) {
	var gw *sandbox.Gateway
	porttest.RunGateway(t, func(t *testing.T) app.PaymentGateway {
		gw = newSandbox(t)
		return gw
	}, porttest.GatewayFeatures{StripeShapedIDs: true, Pay: func(t *testing.T, in payment.Intent) {
		t.Helper()
		if _, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, "4242 4242 4242 4242"); err != nil {
			t.Fatalf("Confirm: %v", err)
		}
	}})
}

func TestConfirmTestCards(t *testing.T) {
	tests := []struct {
		card        string
		wantStatus  payment.IntentStatus
		wantCode    string
		wantEvent   payment.EventType
		wantDecline string
	}{
		{"4242424242424242", payment.IntentSucceeded, "", payment.EventIntentSucceeded, ""},
		{"4242 4242 4242 4242", payment.IntentSucceeded, "", payment.EventIntentSucceeded, ""},
		{"4000 0000 0000 0002", payment.IntentRequiresPaymentMethod, "card_declined", payment.EventIntentPaymentFailed, "generic_decline"},
		{"4000000000009995", payment.IntentRequiresPaymentMethod, "insufficient_funds", payment.EventIntentPaymentFailed, "insufficient_funds"},
		{"4000 0000 0000 0069", payment.IntentRequiresPaymentMethod, "expired_card", payment.EventIntentPaymentFailed, "expired_card"},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			events := &recorder{}
			gw := sandbox.New(sandbox.Config{Events: events})
			req := porttest.NewRequest(t, 4599)
			in := create(t, gw, req)
			got, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, tt.card)
			if err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if got.Status != tt.wantStatus || got.LastErrorCode != tt.wantCode {
				t.Errorf("intent = %s/%q; want %s/%q", got.Status, got.LastErrorCode, tt.wantStatus, tt.wantCode)
			}
			if tt.wantCode != "" && got.LastErrorMessage == "" {
				t.Error("a failed payment has no LastErrorMessage")
			}
			if read := get(t, gw, in.ID); read != got {
				t.Errorf("GetIntent = %+v; want %+v", read, got)
			}
			ev := events.only(t)
			if ev.Type != tt.wantEvent {
				t.Errorf("event type = %s; want %s", ev.Type, tt.wantEvent)
			}
			obj := decodeIntentEvent(t, ev)
			if obj.ID != in.ID || obj.Status != string(tt.wantStatus) || obj.Amount != 4599 ||
				obj.Currency != "usd" || obj.Metadata["order_id"] != req.OrderID {
				t.Errorf("event object = %+v; want intent %s, %s, 4599 usd, order %s", obj, in.ID, tt.wantStatus, req.OrderID)
			}
			if tt.wantDecline != "" && (obj.LastPaymentError == nil || obj.LastPaymentError.DeclineCode != tt.wantDecline) {
				t.Errorf("event last_payment_error = %+v; want decline code %s", obj.LastPaymentError, tt.wantDecline)
			}
			if strings.Contains(string(ev.Body), in.ClientSecret) {
				t.Error("the event body contains the client secret")
			}
		})
	}
}

func TestConfirmAfterDeclineWithAnotherCard(t *testing.T) {
	gw := sandbox.New(sandbox.Config{})
	in := create(t, gw, porttest.NewRequest(t, 1000))
	confirm(t, gw, in, "4000000000000002")
	got := confirm(t, gw, in, "4242424242424242")
	if got.Status != payment.IntentSucceeded || got.LastErrorCode != "" || got.LastErrorMessage != "" {
		t.Errorf("after retry = %s/%q/%q; want succeeded without error", got.Status, got.LastErrorCode, got.LastErrorMessage)
	}
}

func TestConfirmRefusals(t *testing.T) {
	const card = "4242424242424242"
	tests := []struct {
		name   string
		prep   func(gw *sandbox.Gateway, in payment.Intent)
		id     func(in payment.Intent) string
		secret func(in payment.Intent) string
		card   string
		want   error
	}{
		{"unknown card", nil, intentID, clientSecret, "5555 5555 5555 4444", sandbox.ErrUnknownTestCard},
		{"not a number", nil, intentID, clientSecret, "hello", sandbox.ErrUnknownTestCard},
		{"wrong client secret", nil, intentID, func(in payment.Intent) string { return in.ID + "_secret_wrong" }, card, sandbox.ErrClientSecret},
		{"empty client secret", nil, intentID, func(payment.Intent) string { return "" }, card, sandbox.ErrClientSecret},
		{"unknown intent", nil, func(payment.Intent) string { return "pi_nope" }, clientSecret, card, app.ErrIntentNotFound},
		{"already succeeded", func(gw *sandbox.Gateway, in payment.Intent) {
			_, _ = gw.Confirm(context.Background(), in.ID, in.ClientSecret, card)
		},
			intentID, clientSecret, card, sandbox.ErrNotConfirmable},
		{"canceled", func(gw *sandbox.Gateway, in payment.Intent) { _, _ = gw.CancelIntent(context.Background(), in.ID) },
			intentID, clientSecret, card, sandbox.ErrNotConfirmable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := &recorder{}
			gw := sandbox.New(sandbox.Config{Events: events})
			in := create(t, gw, porttest.NewRequest(t, 1000))
			if tt.prep != nil {
				tt.prep(gw, in)
			}
			before, sent := get(t, gw, in.ID), events.count()
			_, err := gw.Confirm(context.Background(), tt.id(in), tt.secret(in), tt.card)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v; want %v", err, tt.want)
			}
			if f, ok := fault.As(err); !ok || f.Kind == fault.KindUnavailable || f.Kind == fault.KindUpstream {
				t.Errorf("error %v is not a client (4xx) fault", err)
			}
			if strings.Contains(err.Error(), normalize(tt.card)) && tt.card != card {
				t.Errorf("error %q repeats the card number", err)
			}
			if after := get(t, gw, in.ID); after != before || events.count() != sent {
				t.Errorf("a refused confirm changed the intent (%+v → %+v) or emitted an event", before, after)
			}
		})
	}
}

func TestCancelAndRefundEmitEvents(t *testing.T) {
	events := &recorder{}
	gw := sandbox.New(sandbox.Config{Events: events})
	unpaid := create(t, gw, porttest.NewRequest(t, 1000))
	if _, err := gw.CancelIntent(context.Background(), unpaid.ID); err != nil {
		t.Fatalf("CancelIntent: %v", err)
	}
	if ev := events.last(t); ev.Type != payment.EventIntentCanceled || decodeIntentEvent(t, ev).ID != unpaid.ID {
		t.Errorf("cancel emitted %s; want %s of %s", ev.Type, payment.EventIntentCanceled, unpaid.ID)
	}
	paid := create(t, gw, porttest.NewRequest(t, 1000))
	confirm(t, gw, paid, "4242424242424242")
	refund(t, gw, paid.ID)
	ev := events.last(t)
	var body struct {
		Data struct {
			Object struct {
				Object         string `json:"object"`
				PaymentIntent  string `json:"payment_intent"`
				AmountRefunded int64  `json:"amount_refunded"`
				Refunded       bool   `json:"refunded"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		t.Fatal(err)
	}
	got := body.Data.Object
	if ev.Type != payment.EventChargeRefunded || got.Object != "charge" || got.PaymentIntent != paid.ID ||
		got.AmountRefunded != 1000 || !got.Refunded {
		t.Errorf("refund emitted %s %+v; want charge.refunded of %s, 1000 refunded", ev.Type, got, paid.ID)
	}
}

func TestCreateRefusesBadRequests(t *testing.T) {
	gw := sandbox.New(sandbox.Config{})
	noPayment := porttest.NewRequest(t, 1000)
	noPayment.PaymentID = ""
	zero := porttest.NewRequest(t, 0)
	for name, req := range map[string]app.IntentRequest{"no payment id": noPayment, "zero amount": zero} {
		if _, err := gw.CreateIntent(context.Background(), req); !errors.Is(err, app.ErrProviderRejected) {
			t.Errorf("%s: error = %v; want %v", name, err, app.ErrProviderRejected)
		}
	}
}

func TestCancelledContextIsUnavailable(t *testing.T) {
	gw := sandbox.New(sandbox.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gw.CreateIntent(ctx, porttest.NewRequest(t, 1000)); !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("error = %v; want %v", err, app.ErrProviderUnavailable)
	}
}

// recorder is an EventSink that keeps what it is sent.
type recorder struct {
	mu     sync.Mutex
	events []sandbox.Event
}

func (r *recorder) Send(ev sandbox.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) only(t *testing.T) sandbox.Event {
	t.Helper()
	if n := r.count(); n != 1 {
		t.Fatalf("%d events emitted; want 1", n)
	}
	return r.last(t)
}

func (r *recorder) last(t *testing.T) sandbox.Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("no event emitted")
	}
	return r.events[len(r.events)-1]
}

type intentObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Amount           int64             `json:"amount"`
	Currency         string            `json:"currency"`
	Status           string            `json:"status"`
	Metadata         map[string]string `json:"metadata"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
	} `json:"last_payment_error"`
}

func decodeIntentEvent(t *testing.T, ev sandbox.Event) intentObject {
	t.Helper()
	var body struct {
		ID         string `json:"id"`
		Object     string `json:"object"`
		Type       string `json:"type"`
		APIVersion string `json:"api_version"`
		Data       struct {
			Object intentObject `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		t.Fatalf("event body: %v", err)
	}
	if body.ID != ev.ID || !strings.HasPrefix(body.ID, "evt_") || body.Object != "event" ||
		body.Type != string(ev.Type) || body.APIVersion != "2023-10-16" || body.Data.Object.Object != "payment_intent" {
		t.Errorf("event envelope = %s; want a Stripe event of API version 2023-10-16", ev.Body)
	}
	return body.Data.Object
}

func create(t *testing.T, gw *sandbox.Gateway, req app.IntentRequest) payment.Intent {
	t.Helper()
	in, err := gw.CreateIntent(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateIntent: %v", err)
	}
	return in
}

func get(t *testing.T, gw *sandbox.Gateway, id string) payment.Intent {
	t.Helper()
	in, err := gw.GetIntent(context.Background(), id)
	if err != nil {
		t.Fatalf("GetIntent: %v", err)
	}
	return in
}

func confirm(t *testing.T, gw *sandbox.Gateway, in payment.Intent, card string) payment.Intent {
	t.Helper()
	got, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, card)
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	return got
}

func intentID(in payment.Intent) string     { return in.ID }
func clientSecret(in payment.Intent) string { return in.ClientSecret }
func normalize(card string) string          { return strings.ReplaceAll(card, " ", "") }

func refund(t *testing.T, gw *sandbox.Gateway, intentID string) app.RefundResult {
	t.Helper()
	r, err := gw.Refund(context.Background(), app.RefundRequest{RefundID: intentID + "-refund", IntentID: intentID})
	if err != nil {
		t.Fatalf("Refund: %v", err)
	}
	return r
}
