package sandbox

import (
	"context"
	"crypto/rand"
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
	// Events receives every event the sandbox emits (usually a *Delivery); nil drops them.
	Events EventSink
	// Logger receives the sandbox's log lines; nil means slog.Default().
	Logger *slog.Logger
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Gateway is the stateful in-process stand-in for Stripe. It is safe for concurrent use.
type Gateway struct {
	events EventSink
	log    *slog.Logger
	now    func() time.Time

	mu          sync.Mutex
	intents     map[string]*intent // by intent id
	byPaymentID map[string]string  // payment id → intent id
	statePath   string             // where PersistTo stores intents; "" keeps them in memory only
}

var _ app.PaymentGateway = (*Gateway)(nil)

// New returns an empty sandbox.
func New(cfg Config) *Gateway {
	g := &Gateway{events: cfg.Events, log: cfg.Logger, now: cfg.Now,
		intents: map[string]*intent{}, byPaymentID: map[string]string{}}
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
	g.mu.Lock()
	defer g.mu.Unlock()
	if id, ok := g.byPaymentID[req.PaymentID]; ok {
		in := g.intents[id]
		if !in.matches(req) {
			return payment.Intent{}, app.ErrProviderRejected.WithMessage("idempotency key %s was used with other parameters", req.PaymentID)
		}
		return in.view(), nil
	}
	id := newID("pi")
	in := &intent{id: id, clientSecret: id + "_secret_" + rand.Text(), paymentID: req.PaymentID,
		orderID: req.OrderID, amount: req.Amount.Minor(), currency: strings.ToLower(req.Amount.Currency().Code()),
		status: payment.IntentRequiresPaymentMethod, created: g.now(), refunds: map[string]refund{}}
	g.intents[id] = in
	g.byPaymentID[req.PaymentID] = id
	g.save()
	g.log.Info("sandbox intent created", slog.String("intent_id", id), slog.String("order_id", req.OrderID),
		slog.Int64("amount", in.amount), slog.String("currency", in.currency))
	return in.view(), nil
}

// GetIntent returns the intent's current state.
func (g *Gateway) GetIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.find(intentID)
	if err != nil {
		return payment.Intent{}, err
	}
	return in.view(), nil
}

// CancelIntent cancels an intent that has neither succeeded nor been canceled, as Stripe does,
// and emits payment_intent.canceled.
func (g *Gateway) CancelIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.find(intentID)
	if err != nil {
		return payment.Intent{}, err
	}
	if in.status == payment.IntentSucceeded || in.status == payment.IntentCanceled {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("payment_intent_unexpected_state: a %s payment intent cannot be canceled", in.status)
	}
	in.status = payment.IntentCanceled
	g.save()
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
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.find(req.IntentID)
	if err != nil {
		return app.RefundResult{}, err
	}
	if r, ok := in.refunds[req.RefundID]; ok {
		if !r.matches(req) {
			return app.RefundResult{}, app.ErrProviderRejected.WithMessage("idempotency key %s was used with other parameters", req.RefundID)
		}
		return r.result(), nil
	}
	amount, err := in.refundable(req)
	if err != nil {
		return app.RefundResult{}, err
	}
	r := refund{id: newID("re"), requested: req.Amount.Minor(), amount: amount}
	in.refunds[req.RefundID] = r
	in.refunded += amount
	g.save()
	g.log.Info("sandbox refund created", slog.String("intent_id", in.id), slog.String("refund_id", r.id),
		slog.Int64("amount", amount))
	g.emit(payment.EventChargeRefunded, in.id, in.chargeObject())
	return r.result(), nil
}

// find returns the intent or app.ErrIntentNotFound; g.mu must be held.
func (g *Gateway) find(intentID string) (*intent, error) {
	in, ok := g.intents[intentID]
	if !ok {
		return nil, app.ErrIntentNotFound.WithMessage("no such payment intent: %q", intentID)
	}
	return in, nil
}

// emit hands an event to the sink; the sink never blocks, so holding g.mu here keeps events in
// the order of the changes they report.
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
