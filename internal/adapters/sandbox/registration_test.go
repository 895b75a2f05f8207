package sandbox

import (
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
)

const stripeSecret = "whsec_wolfixSandboxRegistrationTests0"

// openRegistered opens the sandbox as the registry does, beside the providers enabled names.
func openRegistered(t *testing.T, settings paymentprovider.SettingsMap, enabled ...string) paymentprovider.Provider {
	t.Helper()
	p, err := Registration().Open(t.Context(), paymentprovider.Env{Settings: settings, Logger: slog.New(slog.DiscardHandler),
		Enabled: append([]string{ProviderName}, enabled...), Stores: []any{newMemoryStore()}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if p.Closer != nil {
		t.Cleanup(func() { _ = p.Closer.Close() })
	}
	return p
}

// stripeSigned is a delivery signed with Stripe's webhook secret.
func stripeSigned() ([]byte, http.Header) {
	payload := []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","created":1700000000,` +
		`"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: stripeSecret, Timestamp: time.Now()})
	return payload, http.Header{stripe.SignatureHeader: {signed.Header}}
}

func TestRegisteredSandboxPlaysStripeWhileStripeIsNotEnabled(t *testing.T) {
	p := openRegistered(t, paymentprovider.SettingsMap{stripe.WebhookSecretSetting: stripeSecret, WebhooksSetting: "true"})
	if _, ok := p.Gateway.(*Gateway); !ok || p.StandsInFor != stripe.ProviderName {
		t.Fatalf("opened %T standing in for %q; want a *Gateway standing in for stripe", p.Gateway, p.StandsInFor)
	}
	if _, ok := p.Closer.(*Delivery); !ok {
		t.Fatalf("Closer = %T; want the *Delivery of its webhooks", p.Closer)
	}
	if _, err := p.Verifier.VerifyDelivery(stripeSigned()); err != nil {
		t.Fatalf("an event signed with Stripe's webhook secret: %v; want it accepted", err)
	}
}

func TestRegisteredSandboxBesideStripeSignsWithASecretOfItsOwn(t *testing.T) {
	p := openRegistered(t, paymentprovider.SettingsMap{stripe.WebhookSecretSetting: stripeSecret, WebhooksSetting: "true"},
		stripe.ProviderName)
	if _, err := p.Verifier.VerifyDelivery(stripeSigned()); !errors.Is(err, app.ErrWebhookSignature) {
		t.Fatalf("an event signed with Stripe's webhook secret: %v; want %v", err, app.ErrWebhookSignature)
	}
}

func TestRegisteredSandboxWithoutWebhooksHoldsNothing(t *testing.T) {
	p := openRegistered(t, paymentprovider.SettingsMap{WebhooksSetting: "false"})
	if p.Closer != nil {
		t.Fatalf("Closer = %T; want none without webhooks", p.Closer)
	}
}

func TestRegisteredSandboxNeedsAnIntentStore(t *testing.T) {
	_, err := Registration().Open(t.Context(), paymentprovider.Env{Settings: paymentprovider.SettingsMap{},
		Logger: slog.New(slog.DiscardHandler), Enabled: []string{ProviderName}})
	if err == nil {
		t.Fatal("Open without an IntentStore: nil error")
	}
}
