package stripe_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/testenv"
)

// TestLogsHoldNoSecrets runs create → retrieve → a rejected call → webhook verification against
// stripe-mock with stripe-go's log lines and the returned error captured at debug level, and checks
// that neither the API key (stripe-mock echoes it in its 401 message), nor the client secret
// stripe-mock returned, nor the webhook secret appears in them.
func TestLogsHoldNoSecrets(t *testing.T) {
	mockURL := testenv.StripeMockURL(t)
	logs := &testenv.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw := newGateway(t, stripe.Config{APIURL: mockURL, Logger: logger})
	in, err := gw.CreateIntent(context.Background(), porttest.NewRequest(t, 45998))
	if err != nil {
		t.Fatalf("CreateIntent: %v", err)
	}
	if _, err := gw.GetIntent(context.Background(), in.ID); err != nil {
		t.Fatalf("GetIntent: %v", err)
	}
	const badKey = "sk_test_wrongKeyThatMustNotBeLogged"
	rejected := newGateway(t, stripe.Config{APIURL: mockURL, SecretKey: "rk_live_" + badKey[8:], Logger: logger})
	_, err = rejected.GetIntent(context.Background(), in.ID)
	if err == nil {
		t.Fatal("a non-test key was accepted by stripe-mock")
	}
	logger.Error("call failed", slog.Any("error", err)) // as the app would log it
	payload := event("payment_intent.succeeded", stripe.Version, `{"id":"`+in.ID+`","object":"payment_intent"}`)
	if _, err := newVerifier(t).Verify(payload, sign(payload, whSecret, time.Now())); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	out := logs.String()
	if !strings.Contains(out, "/v1/payment_intents") {
		t.Fatalf("stripe-go logged nothing, so the check proves nothing:\n%s", out)
	}
	for name, secret := range map[string]string{
		"API key": testKey, "rejected key": badKey[8:], "client secret": in.ClientSecret, "webhook secret": whSecret,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain the %s:\n%s", name, out)
		}
	}
}

func TestRedact(t *testing.T) {
	in := "key sk_test_abc123 and rk_live_XYZ, secret pi_3Ab_secret_Cd9 or seti_1x_secret_y, whsec_Q+w/e= end"
	want := "key [REDACTED] and [REDACTED], secret [REDACTED] or [REDACTED], [REDACTED] end"
	if got := stripe.Redact(in); got != want {
		t.Errorf("Redact = %q; want %q", got, want)
	}
}

// testenv.Buffer collects log output; the logger and the test may use it at once.
