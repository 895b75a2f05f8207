package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// WebhookHandler takes a provider's signed event: verify the signature on the raw body, then record
// the event in the inbox in the same transaction as its effect, so each event acts at most once
// however often and in whatever order the provider delivers it.
type WebhookHandler struct {
	store     Store
	verifier  WebhookVerifier
	finalizer *PaymentFinalizer
	clock     Clock
	log       *slog.Logger
}

// NewWebhookHandler builds the webhook use case.
func NewWebhookHandler(store Store, verifier WebhookVerifier, finalizer *PaymentFinalizer, clock Clock, log *slog.Logger) *WebhookHandler {
	return &WebhookHandler{store: store, verifier: verifier, finalizer: finalizer, clock: clock, log: log}
}

// Handle verifies and processes one delivery. It returns an error only when the provider should
// deliver again later (bad signature: a 4xx fault; provider or database trouble: retryable).
func (h *WebhookHandler) Handle(ctx context.Context, payload []byte, signature string) error {
	ev, err := h.verifier.Verify(payload, signature)
	if err != nil {
		return err
	}
	log := h.log.With("event_id", ev.ID, "event_type", ev.Type)
	if !isIntentEvent(ev.Type) || ev.IntentID == "" {
		log.InfoContext(ctx, "webhook event acknowledged without action")
		return h.recordOnly(ctx, ev, "")
	}
	orderID, err := h.store.Orders().FindIDByIntent(ctx, ev.IntentID)
	if errors.Is(err, order.ErrNotFound) {
		log.WarnContext(ctx, "webhook event for an unknown intent", "intent_id", ev.IntentID)
		return h.recordOnly(ctx, ev, "no order has this payment intent")
	}
	if err != nil {
		return err
	}
	res, err := h.finalizer.FinalizeWith(ctx, orderID, order.CauseWebhook(ev.ID), h.claim(ev))
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "webhook event processed", "order_id", orderID, "outcome", res.Outcome)
	return nil
}

// claim records ev in the inbox inside the finalizing transaction and stops when it is a repeat.
func (h *WebhookHandler) claim(ev payment.Event) func(ctx context.Context, tx Tx) (bool, error) {
	return func(ctx context.Context, tx Tx) (bool, error) {
		fresh, err := tx.Webhooks().Record(ctx, ev, h.clock.Now())
		if err != nil || !fresh {
			return false, err
		}
		return true, tx.Webhooks().MarkProcessed(ctx, ev.ID, "", h.clock.Now())
	}
}

func (h *WebhookHandler) recordOnly(ctx context.Context, ev payment.Event, problem string) error {
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		fresh, err := tx.Webhooks().Record(ctx, ev, h.clock.Now())
		if err != nil || !fresh {
			return err
		}
		return tx.Webhooks().MarkProcessed(ctx, ev.ID, problem, h.clock.Now())
	})
}

func isIntentEvent(t payment.EventType) bool {
	switch t {
	case payment.EventIntentSucceeded, payment.EventIntentPaymentFailed, payment.EventIntentCanceled:
		return true
	}
	return false
}
