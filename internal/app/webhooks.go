package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// WebhookHandler takes a provider's signed events. It verifies the signature on the raw body,
// records the event in the inbox on receipt, and claims it inside the transaction of its effect,
// so each event acts at most once however often and in whatever order the provider delivers it.
// Events that failed stay in the inbox, where an admin can list and replay them.
type WebhookHandler struct {
	store     Store
	verifier  WebhookVerifier
	finalizer *PaymentFinalizer
	refunds   *RefundHandler
	clock     Clock
	log       *slog.Logger
	observe   Observer
}

// NewWebhookHandler builds the webhook use case.
func NewWebhookHandler(store Store, verifier WebhookVerifier, finalizer *PaymentFinalizer, refunds *RefundHandler,
	clock Clock, log *slog.Logger, observe Observer) *WebhookHandler {
	return &WebhookHandler{store: store, verifier: verifier, finalizer: finalizer, refunds: refunds, clock: clock, log: log,
		observe: observerOrNop(observe)}
}

// Handle verifies and processes one delivery. It returns an error only when the provider should
// deliver again (a bad signature is a 4xx fault; provider or database trouble is retryable).
func (h *WebhookHandler) Handle(ctx context.Context, payload []byte, signature string) error {
	ev, err := h.verifier.Verify(payload, signature)
	if err != nil {
		return err
	}
	if _, err := h.store.Webhooks().Record(ctx, ev, h.clock.Now()); err != nil {
		return err
	}
	return h.process(ctx, ev)
}

// ListFailed returns events whose processing failed, for an admin.
func (h *WebhookHandler) ListFailed(ctx context.Context, actor Actor, limit int) ([]InboxEntry, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return nil, err
	}
	n, err := pageSize(limit)
	if err != nil {
		return nil, err
	}
	return h.store.Webhooks().ListFailed(ctx, n)
}

// Replay processes a recorded event again, for an admin; a processed event stays a no-op. The
// event is rebuilt from the payload kept in the inbox, which was verified when it arrived.
func (h *WebhookHandler) Replay(ctx context.Context, actor Actor, eventID string) error {
	if err := actor.Require(RoleAdmin); err != nil {
		return err
	}
	entry, err := h.store.Webhooks().Get(ctx, eventID)
	if err != nil {
		return err
	}
	ev, err := h.verifier.Decode(entry.Event.Payload)
	if err != nil {
		return err
	}
	return h.process(ctx, ev)
}

func (h *WebhookHandler) process(ctx context.Context, ev payment.Event) error {
	log := h.log.With("event_id", ev.ID, "event_type", ev.Type)
	err := h.dispatch(ctx, ev, log)
	h.observe.WebhookHandled(string(ev.Type), webhookOutcome(ev, err))
	if err != nil {
		log.WarnContext(ctx, "webhook event failed; it stays in the inbox for a retry", "error", err)
		if ferr := h.store.Webhooks().Fail(context.WithoutCancel(ctx), ev.ID, err.Error(), h.clock.Now()); ferr != nil {
			log.ErrorContext(ctx, "could not record the webhook failure", "error", ferr)
		}
	}
	return err
}

func (h *WebhookHandler) dispatch(ctx context.Context, ev payment.Event, log *slog.Logger) error {
	if ev.IntentID == "" || !handled(ev.Type) {
		log.InfoContext(ctx, "webhook event acknowledged without action")
		return h.claimOnly(ctx, ev)
	}
	orderID, err := h.store.Orders().FindIDByIntent(ctx, ev.IntentID)
	if errors.Is(err, order.ErrNotFound) {
		log.WarnContext(ctx, "webhook event for an intent no order has", "intent_id", ev.IntentID)
		return h.claimOnly(ctx, ev)
	}
	if err != nil {
		return err
	}
	cause, claim := order.CauseWebhook(ev.ID), h.claim(ev)
	switch ev.Type {
	case payment.EventChargeRefunded, payment.EventRefundUpdated:
		err = h.refunds.SyncFromProvider(ctx, orderID, cause, claim)
	case payment.EventDisputeCreated, payment.EventDisputeClosed:
		err = h.recordDispute(ctx, orderID, ev, claim)
	default:
		_, err = h.finalizer.FinalizeWith(ctx, orderID, cause, claim)
	}
	if err == nil {
		log.InfoContext(ctx, "webhook event processed", "order_id", orderID)
	}
	return err
}

// claim returns the step that claims ev inside the transaction of its effect.
func (h *WebhookHandler) claim(ev payment.Event) func(ctx context.Context, tx Tx) (bool, error) {
	return func(ctx context.Context, tx Tx) (bool, error) {
		return tx.Webhooks().Claim(ctx, ev.ID, h.clock.Now())
	}
}

func (h *WebhookHandler) claimOnly(ctx context.Context, ev payment.Event) error {
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := h.claim(ev)(ctx, tx)
		return err
	})
}

func (h *WebhookHandler) recordDispute(ctx context.Context, orderID string, ev payment.Event,
	claim func(ctx context.Context, tx Tx) (bool, error)) error {
	if ev.Dispute == nil {
		return ErrWebhookPayload.WithMessage("dispute event %s carries no dispute", ev.ID)
	}
	cur, err := money.ParseCurrency(ev.Dispute.Currency)
	if err != nil {
		return err
	}
	amount, err := money.New(ev.Dispute.Amount, cur)
	if err != nil {
		return err
	}
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if fresh, err := claim(ctx, tx); err != nil || !fresh {
			return err
		}
		o, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			d := order.Dispute{Status: ev.Dispute.Status, Reason: ev.Dispute.Reason, Amount: amount, OpenedAt: h.clock.Now()}
			o.RecordDispute(d, ev.Type == payment.EventDisputeClosed, order.CauseWebhook(ev.ID), h.clock.Now())
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Outbox().Publish(ctx, eventsFor(o)...)
	})
}

func handled(t payment.EventType) bool {
	switch t {
	case payment.EventIntentSucceeded, payment.EventIntentPaymentFailed, payment.EventIntentCanceled,
		payment.EventChargeRefunded, payment.EventRefundUpdated, payment.EventDisputeCreated, payment.EventDisputeClosed:
		return true
	}
	return false
}
