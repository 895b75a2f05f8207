package app_test

import (
	"bytes"
	"fmt"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
)

// fakeVerifier accepts payloads of the form "<event id> <type> <intent id>" signed "ok".
type fakeVerifier struct{}

// A delivery may hold several payloads, one a line.
func (v fakeVerifier) VerifyDelivery(payload []byte, headers app.WebhookHeaders) ([]payment.Event, error) {
	if headers.Get("Signature") != "ok" {
		return nil, app.ErrWebhookSignature
	}
	var events []payment.Event
	for _, line := range bytes.Split(payload, []byte("\n")) {
		ev, err := v.Decode(line)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// signature is a delivery's only header, the signature the fake verifier checks.
type signature string

func (s signature) Get(string) string { return string(s) }

func (fakeVerifier) Decode(payload []byte) (payment.Event, error) {
	var id, typ, intent string
	if _, err := fmt.Sscanf(string(payload), "%s %s %s", &id, &typ, &intent); err != nil {
		return payment.Event{}, app.ErrWebhookPayload
	}
	return payment.Event{ID: id, Type: payment.EventType(typ), IntentID: intent, Payload: payload}, nil
}

func usd(minor int64) money.Money {
	m, err := money.New(minor, money.USD)
	if err != nil {
		panic(err)
	}
	return m
}
