package stripe

import (
	"context"
	"net/url"
	"strings"

	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/app"
)

// The keys of the settings Stripe reads.
const (
	// SecretKeySetting is the secret key (sk_test_…, sk_live_… or rk_…); required, and its
	// presence makes WOLFIX_PAYMENT_PROVIDER=auto pick Stripe.
	SecretKeySetting = "WOLFIX_STRIPE_SECRET_KEY"
	// WebhookSecretSetting is the webhook endpoint's signing secret (whsec_…); required.
	WebhookSecretSetting = "WOLFIX_STRIPE_WEBHOOK_SECRET"
	// APIURLSetting overrides the API's base URL (a stripe-mock); only with a test key.
	APIURLSetting = "WOLFIX_STRIPE_API_URL"
)

// APIHost is the only host a live key may be sent to.
const APIHost = "api.stripe.com"

// Registration registers Stripe.
func Registration() paymentprovider.Registration {
	return paymentprovider.Registration{Name: ProviderName, Requires: []string{SecretKeySetting, WebhookSecretSetting},
		Validate: validate, LiveKey: liveKey,
		Auto: func(s paymentprovider.Settings) bool { return s.Setting(SecretKeySetting) != "" },
		Open: open}
}

func open(_ context.Context, env paymentprovider.Env) (paymentprovider.Provider, error) {
	s := env.Settings
	gw, err := New(Config{SecretKey: s.Setting(SecretKeySetting), APIURL: s.Setting(APIURLSetting), Logger: env.Logger})
	if err != nil {
		return paymentprovider.Provider{}, err
	}
	v, err := NewVerifier(s.Setting(WebhookSecretSetting))
	if err != nil {
		return paymentprovider.Provider{}, err
	}
	return paymentprovider.Provider{PaymentProvider: app.PaymentProvider{Gateway: gw, Verifier: v}}, nil
}

// isLiveKey reports whether key is a live-mode secret or restricted key.
func isLiveKey(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
}

func liveKey(s paymentprovider.Settings) string {
	if isLiveKey(s.Setting(SecretKeySetting)) {
		return SecretKeySetting
	}
	return ""
}

// validate checks the key's shape (never repeating it: it may be a real secret pasted into the
// wrong setting) and the API URL: set only with a key, and only Stripe's own with a live key.
func validate(s paymentprovider.Settings) []paymentprovider.Problem {
	var problems []paymentprovider.Problem
	bad := func(key, reason string) {
		problems = append(problems, paymentprovider.Problem{Key: key, Reason: reason})
	}
	key, apiURL := s.Setting(SecretKeySetting), s.Setting(APIURLSetting)
	switch {
	case key == "" && apiURL != "":
		bad(APIURLSetting, "is set but "+SecretKeySetting+" is not")
	case key != "" && !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "sk_live_") && !strings.HasPrefix(key, "rk_"):
		bad(SecretKeySetting, "must be a Stripe secret key (sk_test_…, sk_live_… or rk_…)")
	}
	if apiURL == "" {
		return problems
	}
	u, err := url.Parse(apiURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		bad(APIURLSetting, "must be an absolute http(s) URL")
	case isLiveKey(key) && (u.Scheme != "https" || u.Hostname() != APIHost):
		bad(APIURLSetting, "must be empty or https://"+APIHost+" with a live "+SecretKeySetting+
			": a live key is never sent anywhere but Stripe")
	}
	return problems
}
