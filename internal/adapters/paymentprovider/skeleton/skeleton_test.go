package skeleton_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/paymentprovider/skeleton"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/payment"
)

const token = "skeleton-tests-only-token"

// TestMain registers the skeleton, as the wiring would with one line: it is the only provider
// this test binary knows.
func TestMain(m *testing.M) {
	paymentprovider.Register(skeleton.Registration())
	os.Exit(m.Run())
}

// open opens the skeleton through the registry, as the service opens its enabled providers.
func open(t *testing.T) paymentprovider.Provider {
	t.Helper()
	enabled, err := paymentprovider.Open(t.Context(), paymentprovider.Env{
		Settings: paymentprovider.SettingsMap{skeleton.TokenSetting: token}, Enabled: []string{skeleton.ProviderName}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := enabled.Default().Name(); got != skeleton.ProviderName {
		t.Fatalf("default provider = %q; want %q", got, skeleton.ProviderName)
	}
	return enabled.Opened[0]
}

func TestGatewayConformance(t *testing.T) {
	var gw *skeleton.Gateway
	porttest.RunGateway(t, func(t *testing.T) app.PaymentGateway {
		gw = open(t).Gateway.(*skeleton.Gateway)
		return gw
	}, porttest.GatewayFeatures{Pay: func(t *testing.T, in payment.Intent) {
		t.Helper()
		if _, err := gw.Pay(context.Background(), in.ID); err != nil {
			t.Fatalf("Pay: %v", err)
		}
	}})
}

func TestOpenNamesTheMissingToken(t *testing.T) {
	_, err := paymentprovider.Open(t.Context(), paymentprovider.Env{Settings: paymentprovider.SettingsMap{},
		Enabled: []string{skeleton.ProviderName}})
	if err == nil || !strings.Contains(err.Error(), skeleton.TokenSetting) {
		t.Fatalf("Open without a token: %v; want an error naming %s", err, skeleton.TokenSetting)
	}
}

// The configuration knows the skeleton only through the registry: it takes its name, requires
// its setting, and refuses the providers this binary did not register.
func TestTheConfigurationAsksTheRegistry(t *testing.T) {
	cfg := config.Defaults()
	cfg.PaymentProvider, cfg.PaymentProviders = skeleton.ProviderName, []string{"stripe"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate: nil; want the missing token and the unregistered stripe")
	}
	for _, want := range []string{skeleton.TokenSetting + ": is required when skeleton is enabled",
		`WOLFIX_PAYMENT_PROVIDERS: must list some of skeleton, got "stripe"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "WOLFIX_PAYMENT_PROVIDER:") {
		t.Errorf("Validate refused the registered skeleton as the default: %v", err)
	}
}

func TestWebhookDeliveries(t *testing.T) {
	verifier := open(t).Verifier
	batch := []byte(`[{"id":"ev_1","type":"payment_intent.succeeded","intent":"skel_1"},
		{"id":"ev_2","type":"charge.refunded","intent":"skel_2"}]`)
	signed := http.Header{skeleton.TokenHeader: {token}}
	events, err := verifier.VerifyDelivery(batch, signed)
	if err != nil || len(events) != 2 {
		t.Fatalf("VerifyDelivery: %d events, %v; want 2", len(events), err)
	}
	if events[1].ID != "ev_2" || events[1].Type != payment.EventChargeRefunded || events[1].IntentID != "skel_2" {
		t.Errorf("second event = %+v", events[1])
	}
	again, err := verifier.Decode(events[0].Payload)
	if err != nil || again.ID != "ev_1" || again.IntentID != "skel_1" {
		t.Errorf("Decode of a recorded event = %+v, %v; want ev_1 of skel_1", again, err)
	}
	for name, headers := range map[string]http.Header{"no token": {}, "another token": {skeleton.TokenHeader: {"forged"}}} {
		if _, err := verifier.VerifyDelivery(batch, headers); !errors.Is(err, app.ErrWebhookSignature) {
			t.Errorf("%s: %v; want %v", name, err, app.ErrWebhookSignature)
		}
	}
	if _, err := verifier.VerifyDelivery([]byte(`{"id":"ev_1"}`), signed); !errors.Is(err, app.ErrWebhookPayload) {
		t.Errorf("a delivery that is not a batch: %v; want %v", err, app.ErrWebhookPayload)
	}
}
