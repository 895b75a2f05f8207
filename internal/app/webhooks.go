package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// WebhookHandler takes a provider's signed events. A delivery is verified on the raw body and
// recorded in the inbox, and that is all the provider waits for; the inbox is the queue that the
// handler's workers (Run) drain right after, and again after a crash, on every replica, one lease
// at a time. An event is claimed inside the transaction of its effect, so it acts exactly once
// however often and in whatever order the provider delivers it. Events that failed stay in the
// inbox, retried with backoff, where an admin can list and replay them.
type WebhookHandler struct {
	store     UnitOfWork
	providers *Providers
	finalizer *PaymentFinalizer
	refunds   *RefundHandler
	clock     Clock
	log       *slog.Logger
	observe   Observer
	inbox     InboxConfig
	wake      chan struct{}
	handOff   *handOff
}

// NewWebhookHandler builds the webhook use case, with the default InboxConfig.
func NewWebhookHandler(store UnitOfWork, providers *Providers, finalizer *PaymentFinalizer, refunds *RefundHandler,
	clock Clock, log *slog.Logger, observe Observer) *WebhookHandler {
	return &WebhookHandler{store: store, providers: providers, finalizer: finalizer, refunds: refunds, clock: clock,
		log: log, observe: observerOrNop(observe), inbox: InboxConfig{}.withDefaults(), wake: make(chan struct{}, 1),
		handOff: newHandOff(InboxConfig{}.withDefaults().Workers)}
}

// WorkWith sets how the inbox's workers lease, sweep and retry; zero fields keep their defaults.
func (h *WebhookHandler) WorkWith(cfg InboxConfig) *WebhookHandler {
	h.inbox = cfg.withDefaults()
	h.handOff = newHandOff(h.inbox.Workers)
	return h
}

// Handle verifies one delivery to the webhook route of a provider (ForWebhook) with that provider's
// verifier and records its events in the inbox. It returns an error only when the provider should
// deliver again (an unknown provider or a bad signature is a 4xx fault; database trouble is
// retryable); processing never makes the provider wait.
//
// While Run's workers have room, a new event is recorded already leased to this process and handed
// straight to a worker, so it takes no lease round trip nor a turn of the sweep; otherwise it is
// recorded due and the workers are woken to lease it. An event handed over as the process dies
// waits out its lease, as one a crashed worker held does.
func (h *WebhookHandler) Handle(ctx context.Context, route string, payload []byte, headers WebhookHeaders) error {
	p, err := h.providers.ForWebhook(route)
	if err != nil {
		return err
	}
	events, err := p.Verifier.VerifyDelivery(payload, headers)
	if err != nil {
		return err
	}
	for _, ev := range events {
		ev.Provider = p.Name()
		if err := h.record(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// record stores one verified event and sees that a worker processes it.
func (h *WebhookHandler) record(ctx context.Context, ev payment.Event) error {
	now := h.clock.Now()
	entry := InboxEntry{Event: ev, ReceivedAt: now}
	handed := h.handOff.reserve()
	if handed {
		entry.LockedUntil = now.Add(h.inbox.Lease)
	}
	fresh, err := h.store.Webhooks().Record(ctx, entry)
	switch {
	case handed && fresh && err == nil:
		h.handOff.give(entry)
	case handed:
		h.handOff.release()
	}
	if err == nil && !handed {
		h.Wake()
	}
	return err
}

// List returns a page of inbox events (pending, failed, processed, or all), for an admin.
func (h *WebhookHandler) List(ctx context.Context, actor Actor, q InboxQuery) ([]InboxEntry, string, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return nil, "", err
	}
	n, err := pageSize(q.Limit)
	if err != nil {
		return nil, "", err
	}
	q.Limit = n
	return h.store.Webhooks().List(ctx, q)
}

// ReplayedEvent is the result of an admin's replay.
type ReplayedEvent struct{ ID string }

// Replay processes a recorded event now, for an admin; a processed event stays a no-op. The
// event is rebuilt from the payload kept in the inbox, which was verified when it arrived.
func (h *WebhookHandler) Replay(ctx context.Context, actor Actor, eventID string) (ReplayedEvent, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return ReplayedEvent{}, err
	}
	entry, err := h.store.Webhooks().Get(ctx, eventID)
	if err != nil {
		return ReplayedEvent{}, err
	}
	if err := h.process(ctx, entry); err != nil {
		return ReplayedEvent{}, err
	}
	return ReplayedEvent{ID: eventID}, nil
}

// process runs one recorded event; a failure is noted in the inbox with the time of the next try.
func (h *WebhookHandler) process(ctx context.Context, entry InboxEntry) error {
	ev, err := h.decode(entry.Event)
	if err == nil {
		err = h.dispatch(ctx, ev, h.log.With("event_id", ev.ID, "event_type", ev.Type))
	} else {
		ev = entry.Event
	}
	h.observe.WebhookHandled(string(ev.Type), webhookOutcome(ev, err))
	if err != nil {
		h.noteFailure(ctx, entry, err)
	}
	return err
}

// decode rebuilds a recorded event with the verifier of the provider that delivered it.
func (h *WebhookHandler) decode(recorded payment.Event) (payment.Event, error) {
	p := h.providers.Default() // events recorded before providers were named came from it
	if recorded.Provider != "" {
		var err error
		if p, err = h.providers.Get(recorded.Provider); err != nil {
			return payment.Event{}, err
		}
	}
	ev, err := p.Verifier.Decode(recorded.Payload)
	ev.Provider = recorded.Provider
	return ev, err
}

func (h *WebhookHandler) noteFailure(ctx context.Context, entry InboxEntry, cause error) {
	log := h.log.With("event_id", entry.Event.ID, "event_type", entry.Event.Type)
	problem, retryAt := cause.Error(), h.clock.Now().Add(h.inbox.retryDelay(entry.Attempts))
	if ctx.Err() != nil {
		problem, retryAt = "interrupted by shutdown", h.clock.Now()
	}
	log.WarnContext(ctx, "webhook event failed; it stays in the inbox for a retry", "error", cause, "retry_at", retryAt)
	if err := h.store.Webhooks().Fail(context.WithoutCancel(ctx), entry.Event.ID, problem, retryAt); err != nil {
		log.ErrorContext(ctx, "could not record the webhook failure", "error", err)
	}
}

func (h *WebhookHandler) dispatch(ctx context.Context, ev payment.Event, log *slog.Logger) error {
	if ev.IntentID == "" || !handled(ev.Type) {
		log.InfoContext(ctx, "webhook event acknowledged without action")
		return h.claimOnly(ctx, ev)
	}
	orderID, err := h.act(ctx, ev)
	if errors.Is(err, order.ErrNotFound) {
		log.WarnContext(ctx, "webhook event for an intent no order has", "intent_id", ev.IntentID)
		return h.claimOnly(ctx, ev)
	}
	if err == nil {
		log.InfoContext(ctx, "webhook event processed", "order_id", orderID)
	}
	return err
}

// act applies a handled event to the order of its intent, claiming the event in the same
// transaction, and returns that order's id (empty when the event had been processed already).
// An intent's own events find their order through the intent the finalizer re-reads anyway; refund
// and dispute events look it up by the intent first.
func (h *WebhookHandler) act(ctx context.Context, ev payment.Event) (string, error) {
	cause, claim := order.CauseWebhook(ev.ID), h.claim(ev)
	switch ev.Type {
	case payment.EventChargeRefunded, payment.EventRefundUpdated:
		return h.onOrderOf(ctx, ev, func(orderID string) error {
			return h.refunds.SyncFromProvider(ctx, orderID, cause, claim)
		})
	case payment.EventDisputeCreated, payment.EventDisputeClosed:
		return h.onOrderOf(ctx, ev, func(orderID string) error { return h.recordDispute(ctx, orderID, ev, claim) })
	}
	result, err := h.finalizer.finalizeReported(ctx, h.paymentRefOf(ev), cause, claim)
	if result.Order == nil {
		return "", err
	}
	return result.Order.ID(), err
}

// onOrderOf runs effect on the order whose payment is on ev's intent.
func (h *WebhookHandler) onOrderOf(ctx context.Context, ev payment.Event, effect func(orderID string) error) (string, error) {
	orderID, err := h.store.Orders().FindIDByIntent(ctx, ev.IntentID)
	if err != nil {
		return "", err
	}
	return orderID, effect(orderID)
}

// paymentRefOf names the intent ev reports on, at the provider that delivered it (events recorded
// before providers were named came from the default).
func (h *WebhookHandler) paymentRefOf(ev payment.Event) paymentRef {
	provider := ev.Provider
	if provider == "" {
		provider = h.providers.Default().Name()
	}
	return paymentRef{provider: provider, intentID: ev.IntentID}
}

// claim returns the step that claims ev inside the transaction of its effect; an admin's replay
// keeps its answer there too.
func (h *WebhookHandler) claim(ev payment.Event) func(ctx context.Context, tx Tx) (bool, error) {
	return func(ctx context.Context, tx Tx) (bool, error) {
		answer(ctx, ReplayedEvent{ID: ev.ID})
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
		_, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			d := order.Dispute{Status: ev.Dispute.Status, Reason: ev.Dispute.Reason, Amount: amount, OpenedAt: h.clock.Now()}
			o.RecordDispute(d, ev.Type == payment.EventDisputeClosed, order.CauseWebhook(ev.ID), h.clock.Now())
			return nil
		})
		return err
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
