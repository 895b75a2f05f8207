package app

import (
	"github.com/wolfix/orders/internal/domain/payment"
)

// Observer is told what the use cases did, so that an adapter can count it (Prometheus metrics in
// production). Its methods are called after the change committed, must not block, and take label
// values from the small fixed sets below, never ids.
type Observer interface {
	// PaymentSettled reports a card payment that became paid or failed, or a provider report that
	// contradicted its order (PaymentPaid, PaymentFailed, PaymentAnomaly).
	PaymentSettled(provider, outcome string)
	// RefundSettled reports a refund the provider answered, with its amount in minor units of
	// currency and its final status as outcome ("succeeded" or "failed").
	RefundSettled(currency string, amountMinor int64, outcome string)
	// ReconcilerActed reports one repair the reconciler made (ReconcilerPaymentSettled,
	// ReconcilerOrderExpired, ReconcilerRefundRetried).
	ReconcilerActed(kind string)
	// WebhookHandled reports a provider event processed, acknowledged without action, or failed
	// (WebhookProcessed, WebhookIgnored, WebhookFailed).
	WebhookHandled(eventType, outcome string)
}

// Values Observer methods are called with.
const (
	PaymentPaid    = "paid"
	PaymentFailed  = "failed"
	PaymentAnomaly = "anomaly"

	ReconcilerPaymentSettled = "payment_settled" // a lost webhook: the reconciler found the payment
	ReconcilerOrderExpired   = "order_expired"
	ReconcilerRefundRetried  = "refund_retried"

	WebhookProcessed = "processed"
	WebhookIgnored   = "ignored"
	WebhookFailed    = "failed"
)

// NopObserver observes nothing; it stands in when Dependencies.Observer is nil.
type NopObserver struct{}

func (NopObserver) PaymentSettled(string, string)       {}
func (NopObserver) RefundSettled(string, int64, string) {}
func (NopObserver) ReconcilerActed(string)              {}
func (NopObserver) WebhookHandled(string, string)       {}

// observerOrNop returns o, or NopObserver when o is nil.
func observerOrNop(o Observer) Observer {
	if o == nil {
		return NopObserver{}
	}
	return o
}

// paymentOutcome names what finalizing did to a payment, or "" when it settled nothing.
func paymentOutcome(f Finalization) string {
	switch {
	case f.Anomaly != nil:
		return PaymentAnomaly
	case f.Outcome == payment.BecamePaid:
		return PaymentPaid
	case f.Outcome == payment.BecameFailed:
		return PaymentFailed
	}
	return ""
}

// webhookOutcome names how processing ev ended.
func webhookOutcome(ev payment.Event, err error) string {
	switch {
	case err != nil:
		return WebhookFailed
	case ev.IntentID == "" || !handled(ev.Type):
		return WebhookIgnored
	}
	return WebhookProcessed
}
