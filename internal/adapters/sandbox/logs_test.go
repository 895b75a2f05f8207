package sandbox_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// TestLogsHoldNoSecrets runs a full create → confirm → webhook flow (a declined card, a refused
// unknown card, a good card, a refund) with every log line of the sandbox captured at debug level,
// and checks that no client secret, webhook secret or card number appears.
func TestLogsHoldNoSecrets(t *testing.T) {
	logs := &testenv.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	recv, srv := newReceiver(t)
	d := newDelivery(t, sandbox.DeliveryConfig{Logger: logger})
	d.SetTarget(srv.URL)
	gw := sandbox.New(sandbox.Config{Events: d, Logger: logger})

	in := create(t, gw, porttest.NewRequest(t, 4599))
	confirm(t, gw, in, "4000 0000 0000 0002")
	if _, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, "5105 1051 0510 5100"); err == nil {
		t.Fatal("an unknown card was accepted")
	}
	confirm(t, gw, in, "4242 4242 4242 4242")
	refund(t, gw, in.ID)
	for _, want := range []payment.EventType{payment.EventIntentPaymentFailed, payment.EventIntentSucceeded, payment.EventChargeRefunded} {
		if ev := recv.await(t); ev.Type != want {
			t.Fatalf("webhook %s; want %s", ev.Type, want)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	if !strings.Contains(out, in.ID) {
		t.Fatalf("the logs do not mention the intent at all, so the check proves nothing:\n%s", out)
	}
	secrets := map[string]string{
		"client secret":  in.ClientSecret,
		"secret part":    strings.TrimPrefix(in.ClientSecret, in.ID),
		"webhook secret": webhookSecret,
	}
	for _, card := range []string{"4000000000000002", "5105105105105100", "4242424242424242"} {
		secrets["card "+card] = card
		secrets["spaced card "+card] = card[:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:]
	}
	for name, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the logs contain the %s", name)
		}
	}
	if strings.Contains(out, "v1=") {
		t.Error("the logs contain a webhook signature")
	}
}
