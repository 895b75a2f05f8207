package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ProviderName is the name the sandbox reports as its provider.
const ProviderName = "sandbox"

// Config configures a Gateway.
type Config struct {
	// Store keeps the intents; nil keeps them in this process's memory.
	Store IntentStore
	// Events receives every event the sandbox emits (usually a *Delivery); nil drops them.
	Events EventSink
	// Logger receives the sandbox's log lines; nil means slog.Default().
	Logger *slog.Logger
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Gateway is the stateful stand-in for Stripe. It is safe for concurrent use, and several
// gateways (one per replica) may share one database-backed IntentStore.
type Gateway struct {
	store  IntentStore
	events EventSink
	log    *slog.Logger
	now    func() time.Time

	// emitting serializes, per intent (striped), a change and the emission of its event, so that
	// this process emits one intent's events in the order of its changes.
	emitting [32]sync.Mutex
}

var _ app.PaymentGateway = (*Gateway)(nil)

// New returns a sandbox over cfg.Store (an empty in-memory one when nil).
func New(cfg Config) *Gateway {
	g := &Gateway{store: cfg.Store, events: cfg.Events, log: cfg.Logger, now: cfg.Now}
	if g.store == nil {
		g.store = newMemoryStore()
	}
	if g.events == nil {
		g.events = discard{}
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.log = g.log.With(slog.String("component", "sandbox"))
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// Provider returns "sandbox".
func (g *Gateway) Provider() string { return ProviderName }

// CreateIntent creates an intent awaiting a payment method. Like Stripe with an Idempotency-Key,
// the same PaymentID returns the intent created first, and refuses different parameters.
func (g *Gateway) CreateIntent(ctx context.Context, req app.IntentRequest) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	if req.PaymentID == "" || req.OrderID == "" {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("a payment intent needs a payment id and an order id")
	}
	if req.Amount.Currency().IsZero() || req.Amount.Minor() <= 0 {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("a payment intent needs a positive amount in a currency")
	}
	id := newID("pi")
	fresh := &intent{id: id, clientSecret: id + "_secret_" + rand.Text(), paymentID: req.PaymentID,
		orderID: req.OrderID, amount: req.Amount.Minor(), currency: strings.ToLower(req.Amount.Currency().Code()),
		status: payment.IntentRequiresPaymentMethod, created: g.now(), refunds: map[string]refund{}}
	rec, err := g.store.AddIntent(ctx, fresh.record())
	if err != nil {
		return payment.Intent{}, g.storeFailure(id, err)
	}
	in := fromRecord(rec)
	if in.id != id {
		if !in.matches(req) {
			return payment.Intent{}, app.ErrProviderRejected.WithMessage("idempotency key %s was used with other parameters", req.PaymentID)
		}
		return in.view(), nil
	}
	g.log.Info("sandbox intent created", slog.String("intent_id", id), slog.String("order_id", req.OrderID),
		slog.Int64("amount", in.amount), slog.String("currency", in.currency))
	return in.view(), nil
}

// GetIntent returns the intent's current state.
func (g *Gateway) GetIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	rec, err := g.store.Intent(ctx, intentID)
	if err != nil {
		return payment.Intent{}, g.storeFailure(intentID, err)
	}
	return fromRecord(rec).view(), nil
}

// CancelIntent cancels an intent that has neither succeeded nor been canceled, as Stripe does,
// and emits payment_intent.canceled.
func (g *Gateway) CancelIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	unlock := g.lockEmitting(intentID)
	defer unlock()
	in, err := g.update(ctx, intentID, func(in *intent) error {
		if in.status == payment.IntentSucceeded || in.status == payment.IntentCanceled {
			return app.ErrProviderRejected.WithMessage("payment_intent_unexpected_state: a %s payment intent cannot be canceled", in.status)
		}
		in.status = payment.IntentCanceled
		return nil
	})
	if err != nil {
		return payment.Intent{}, err
	}
	g.emit(payment.EventIntentCanceled, in.id, in.eventObject())
	return in.view(), nil
}

// Refund returns req.Amount (everything left when zero) of a succeeded intent. Like Stripe it
// refuses more than is left, and the same RefundID returns the refund made first.
func (g *Gateway) Refund(ctx context.Context, req app.RefundRequest) (app.RefundResult, error) {
	if err := usable(ctx); err != nil {
		return app.RefundResult{}, err
	}
	if req.RefundID == "" {
		return app.RefundResult{}, app.ErrProviderRejected.WithMessage("a refund needs a refund id")
	}
	unlock := g.lockEmitting(req.IntentID)
	defer unlock()
	var made refund
	replayed := false
	in, err := g.update(ctx, req.IntentID, func(in *intent) error {
		if r, ok := in.refunds[req.RefundID]; ok {
			if !r.matches(req) {
				return app.ErrProviderRejected.WithMessage("idempotency key %s was used with other parameters", req.RefundID)
			}
			made, replayed = r, true
			return nil
		}
		amount, err := in.refundable(req)
		if err != nil {
			return err
		}
		made = refund{id: newID("re"), requested: req.Amount.Minor(), amount: amount}
		in.refunds[req.RefundID] = made
		in.refunded += amount
		return nil
	})
	if err != nil {
		return app.RefundResult{}, err
	}
	if !replayed {
		g.log.Info("sandbox refund created", slog.String("intent_id", in.id), slog.String("refund_id", made.id),
			slog.Int64("amount", made.amount))
		g.emit(payment.EventChargeRefunded, in.id, in.chargeObject())
	}
	return made.result(), nil
}

// update applies change to the stored intent and returns the intent as stored. change's own
// error comes back as it is; the store's become app.ErrIntentNotFound or app.ErrProviderUnavailable.
func (g *Gateway) update(ctx context.Context, intentID string, change func(in *intent) error) (*intent, error) {
	var changeErr error
	rec, err := g.store.UpdateIntent(ctx, intentID, func(r *IntentRecord) error {
		in := fromRecord(*r)
		if changeErr = change(in); changeErr != nil {
			return changeErr
		}
		*r = in.record()
		return nil
	})
	if changeErr != nil {
		return nil, changeErr
	}
	if err != nil {
		return nil, g.storeFailure(intentID, err)
	}
	return fromRecord(rec), nil
}

// storeFailure is what a failed store call means to the caller: an unknown intent, or a provider
// that cannot answer right now.
func (g *Gateway) storeFailure(intentID string, err error) error {
	if errors.Is(err, ErrNoIntent) {
		return app.ErrIntentNotFound.WithMessage("no such payment intent: %q", intentID)
	}
	g.log.Error("sandbox intent store failed", slog.String("intent_id", intentID), slog.Any("error", err))
	return app.ErrProviderUnavailable.Wrap(err)
}

// lockEmitting holds the intent's stripe of emitting until the returned unlock.
func (g *Gateway) lockEmitting(intentID string) (unlock func()) {
	mu := &g.emitting[shard(intentID, len(g.emitting))]
	mu.Lock()
	return mu.Unlock
}

// emit hands an event to the sink; the sink never blocks. Callers hold the intent's emitting
// lock, so this process emits events in the order of the changes they report.
func (g *Gateway) emit(typ payment.EventType, intentID string, object any) {
	ev, err := newEvent(typ, intentID, object, g.now())
	if err != nil {
		g.log.Error("sandbox event not built", slog.String("type", string(typ)), slog.Any("error", err))
		return
	}
	g.events.Send(ev)
}

// usable reports a cancelled context the way a provider call would fail on one.
func usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return app.ErrProviderUnavailable.Wrap(err)
	}
	return nil
}
