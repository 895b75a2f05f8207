package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
)

// WebhooksSetting is the key of the setting that lets the sandbox deliver its signed events:
// "false" plays a provider whose webhooks never arrive (the reconciler must then finish payments).
const WebhooksSetting = "WOLFIX_SANDBOX_WEBHOOKS"

// DrainOnStop bounds how long a stopping replica keeps delivering queued events, within the 5 s a
// process has to stop after SIGTERM.
const DrainOnStop = 2 * time.Second

// Registration registers the sandbox. It is test-only (never beside a live key), and
// WOLFIX_PAYMENT_PROVIDER=auto always accepts it: register it after the real providers. Its
// intents live in the IntentStore among the Env's stores; its Delivery, when webhooks are on, is
// the opened provider's Closer and still needs its target (Delivery.SetTarget) once the service
// knows its own address.
func Registration() paymentprovider.Registration {
	return paymentprovider.Registration{Name: ProviderName, TestOnly: true,
		Auto: func(paymentprovider.Settings) bool { return true }, Open: open}
}

// open opens the sandbox, which plays Stripe: while Stripe is not enabled, /webhooks/stripe
// reaches it too, and it signs with Stripe's webhook secret when that is set. Beside Stripe it
// signs with a secret of its own, so Stripe's events are refused at its route and its events at
// Stripe's.
func open(_ context.Context, env paymentprovider.Env) (paymentprovider.Provider, error) {
	store, ok := paymentprovider.StoreOf[IntentStore](env)
	if !ok {
		return paymentprovider.Provider{}, errors.New("no IntentStore among the service's stores")
	}
	secret, err := signingSecret(env)
	if err != nil {
		return paymentprovider.Provider{}, err
	}
	v, err := stripe.NewVerifier(secret)
	if err != nil {
		return paymentprovider.Provider{}, err
	}
	cfg := Config{Store: store, Logger: env.Logger}
	opened := paymentprovider.Provider{}
	if env.Settings.Setting(WebhooksSetting) != "false" {
		delivery, err := NewDelivery(DeliveryConfig{Secret: secret, Logger: env.Logger, DrainTimeout: DrainOnStop})
		if err != nil {
			return paymentprovider.Provider{}, err
		}
		cfg.Events, opened.Closer = delivery, delivery
	} else {
		env.Logger.Warn("sandbox webhooks are off (" + WebhooksSetting + "=false): payments settle through PATCH /paid or the reconciler")
	}
	opened.PaymentProvider = app.PaymentProvider{Gateway: New(cfg), Verifier: v, StandsInFor: stripe.ProviderName}
	return opened, nil
}

// signingSecret is Stripe's webhook secret while Stripe is not enabled, else (or when it is unset)
// a fresh one: the sandbox only signs for this process, so a secret per start is enough.
func signingSecret(env paymentprovider.Env) (string, error) {
	if secret := env.Settings.Setting(stripe.WebhookSecretSetting); secret != "" && !env.Enables(stripe.ProviderName) {
		return secret, nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return "whsec_sandbox_" + hex.EncodeToString(buf), nil
}
