package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// PaymentFinalizer is the one path by which a card payment becomes Paid or Failed. The webhook,
// the customer's PATCH /paid and the reconciler all end here. It never trusts its caller: it
// re-reads the intent from the provider and lets the domain check order id, amount and currency.
type PaymentFinalizer struct {
	store     UnitOfWork
	providers *Providers
	refunds   *RefundHandler
	clock     Clock
	log       *slog.Logger
	observe   Observer
}

// NewPaymentFinalizer builds the finalize path. refunds gives back payments that land on orders
// already cancelled.
func NewPaymentFinalizer(store UnitOfWork, providers *Providers, refunds *RefundHandler, clock Clock, log *slog.Logger, observe Observer) *PaymentFinalizer {
	return &PaymentFinalizer{store: store, providers: providers, refunds: refunds, clock: clock, log: log, observe: observerOrNop(observe)}
}

// Finalization is the result of finalizing: the order after the step, and what changed.
type Finalization struct {
	Order   *order.Order
	Outcome payment.Outcome
	// Anomaly is set when the provider's report contradicted the order; nothing was marked paid.
	Anomaly error
}

// Finalize reads the order's intent from the provider and applies it under the order's lock,
// writing the resulting events to the outbox in the same transaction. A repeat is a no-op.
func (f *PaymentFinalizer) Finalize(ctx context.Context, orderID string, cause order.Cause) (Finalization, error) {
	return f.finalizeWith(ctx, orderID, cause, nil)
}

// paymentRef names the intent that settles a card payment and the provider that opened it.
type paymentRef struct{ provider, intentID string }

// errIntentMoved reports an order whose payment, once locked, was not on the intent the
// finalizer had read from the provider; nothing was applied.
var errIntentMoved = fault.Conflict("payment_intent_moved", "the order's payment moved to another intent; try again")

// finalizeWith is Finalize with extra work (e.g. claiming a webhook in the inbox) done inside the
// same transaction before the order is touched; if before reports false, nothing else runs. A
// glance at the order tells its intent first; the order is read whole only under its lock.
func (f *PaymentFinalizer) finalizeWith(ctx context.Context, orderID string, cause order.Cause,
	before func(ctx context.Context, tx Tx) (bool, error)) (Finalization, error) {
	g, err := f.store.Orders().Glance(ctx, orderID)
	if err != nil {
		return Finalization{}, err
	}
	return f.finalizeGlanced(ctx, orderID, g, cause, before)
}

// finalizeGlanced is finalizeWith for an order already glanced at (g).
func (f *PaymentFinalizer) finalizeGlanced(ctx context.Context, orderID string, g OrderGlance, cause order.Cause,
	before func(ctx context.Context, tx Tx) (bool, error)) (Finalization, error) {
	if g.PaymentMethod != payment.MethodCard {
		return Finalization{}, payment.ErrNotCard
	}
	ref := paymentRef{provider: g.PaymentProvider, intentID: g.IntentID}
	gateway, intent, err := f.readIntent(ctx, ref)
	if err != nil {
		return Finalization{}, err
	}
	return f.settle(ctx, gateway, orderID, ref, intent, cause, before)
}

// finalizeReported settles the intent a provider's event reports on (ref). The intent is re-read
// from its provider first, and the order it names (the id the order gave it when opening it) is
// settled, so no lookup by intent comes before the transaction. When that order does not hold the
// intent (or it names none), the order whose payment is on the intent is settled instead, where a
// mismatch shows as an anomaly; if that payment moved to another intent meanwhile, the order is
// finalized as Finalize does. An intent that no order holds is order.ErrNotFound.
func (f *PaymentFinalizer) finalizeReported(ctx context.Context, ref paymentRef, cause order.Cause,
	before func(ctx context.Context, tx Tx) (bool, error)) (Finalization, error) {
	gateway, intent, err := f.readIntent(ctx, ref)
	if errors.Is(err, ErrIntentNotFound) {
		if _, lookup := f.store.Orders().FindIDByIntent(ctx, ref.intentID); lookup != nil {
			return Finalization{}, lookup // order.ErrNotFound: the intent is nobody's
		}
	}
	if err != nil {
		return Finalization{}, err
	}
	if intent.OrderID != "" {
		result, err := f.settle(ctx, gateway, intent.OrderID, ref, intent, cause, before)
		if !errors.Is(err, order.ErrNotFound) && !errors.Is(err, errIntentMoved) {
			return result, err
		}
	}
	orderID, err := f.store.Orders().FindIDByIntent(ctx, ref.intentID)
	if err != nil {
		return Finalization{}, err
	}
	result, err := f.settle(ctx, gateway, orderID, ref, intent, cause, before)
	if errors.Is(err, errIntentMoved) {
		return f.finalizeWith(ctx, orderID, cause, before)
	}
	return result, err
}

// readIntent asks ref's provider for the intent as it is now.
func (f *PaymentFinalizer) readIntent(ctx context.Context, ref paymentRef) (PaymentGateway, payment.Intent, error) {
	gateway, err := f.providers.Gateway(ref.provider)
	if err != nil {
		return nil, payment.Intent{}, err
	}
	intent, err := gateway.GetIntent(ctx, ref.intentID)
	return gateway, intent, err
}

// settle applies intent, read from gateway outside any transaction, to the order in one.
func (f *PaymentFinalizer) settle(ctx context.Context, gateway PaymentGateway, orderID string, ref paymentRef,
	intent payment.Intent, cause order.Cause, before func(ctx context.Context, tx Tx) (bool, error)) (Finalization, error) {
	var result Finalization
	err := f.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if before != nil {
			if proceed, err := before(ctx, tx); err != nil || !proceed {
				return err
			}
		}
		var err error
		result, err = f.apply(ctx, tx, orderID, ref, intent, cause)
		return err
	})
	if outcome := paymentOutcome(result); err == nil && outcome != "" {
		f.observe.PaymentSettled(gateway.Provider(), outcome)
	}
	if err == nil && result.Outcome == payment.BecamePaid && result.Order.Status() == order.StatusCancelled {
		return result, f.refundLatePayment(ctx, orderID, cause)
	}
	return result, err
}

// refundLatePayment gives back a payment that succeeded after its order was cancelled (the
// customer paid just as the order expired): the money must not be kept for nothing.
func (f *PaymentFinalizer) refundLatePayment(ctx context.Context, orderID string, cause order.Cause) error {
	f.log.WarnContext(ctx, "payment arrived for a cancelled order; refunding it", "order_id", orderID)
	_, err := f.refunds.refund(ctx, orderID, order.RefundRequest{ID: NewID(), Reason: "paid after the order was cancelled"}, cause)
	return err
}

func (f *PaymentFinalizer) apply(ctx context.Context, tx Tx, orderID string, ref paymentRef, intent payment.Intent,
	cause order.Cause) (Finalization, error) {
	var result Finalization
	var release bool
	o, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
		if err := requireIntent(o, ref); err != nil {
			return err
		}
		outcome, err := o.ApplyIntent(intent, cause, f.clock.Now())
		if isAnomaly(err) {
			result.Anomaly = err
			return nil
		}
		result.Outcome = outcome
		if err == nil && outcome == payment.WasCanceled && o.Status() == order.StatusPending {
			release, err = o.Cancel(true, cause, f.clock.Now())
		}
		return err
	})
	if err != nil {
		return Finalization{}, err
	}
	result.Order = o
	if release {
		if err := releaseItems(ctx, tx, o); err != nil {
			return Finalization{}, err
		}
	}
	if result.Anomaly != nil {
		f.log.ErrorContext(ctx, "provider report does not match the order; not marking it paid",
			"order_id", orderID, "intent_id", intent.ID, "problem", result.Anomaly)
		raise(ctx, anomalyEvent(orderID, intent.ID, result.Anomaly, cause, f.clock.Now()))
	}
	return result, nil
}

// requireIntent checks, under the order's lock, that its payment is the card payment ref names.
func requireIntent(o *order.Order, ref paymentRef) error {
	p := o.Payment()
	if p.Method() != payment.MethodCard {
		return payment.ErrNotCard
	}
	if p.Provider() != ref.provider || p.IntentID() != ref.intentID {
		return errIntentMoved
	}
	return nil
}

func isAnomaly(err error) bool {
	return errors.Is(err, payment.ErrAmountMismatch) || errors.Is(err, payment.ErrOrderMismatch)
}

// ConfirmPaid is PATCH /api/orders/{id}/paid: the customer says "I paid" for a card order (we ask
// the provider), or an admin records cash collected on delivery.
type ConfirmPaid struct {
	Actor   Actor
	OrderID string
}

// ErrCashAdminOnly reports a non-admin trying to mark cash as collected.
var ErrCashAdminOnly = fault.Forbidden("cash_collection_admin_only", "only an admin can record cash collected on delivery")

// ConfirmPaidHandler runs PATCH /paid.
type ConfirmPaidHandler struct {
	store     UnitOfWork
	finalizer *PaymentFinalizer
	clock     Clock
}

// NewConfirmPaidHandler builds the PATCH /paid use case.
func NewConfirmPaidHandler(store UnitOfWork, finalizer *PaymentFinalizer, clock Clock) *ConfirmPaidHandler {
	return &ConfirmPaidHandler{store: store, finalizer: finalizer, clock: clock}
}

// Handle answers nil when the order is paid (now or before), payment.ErrNotCompleted otherwise.
func (h *ConfirmPaidHandler) Handle(ctx context.Context, cmd ConfirmPaid) error {
	if err := cmd.Actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return err
	}
	g, err := visibleGlance(ctx, h.store, cmd.Actor, cmd.OrderID)
	if err != nil {
		return err
	}
	if g.PaymentMethod == payment.MethodCash {
		return h.collectCash(ctx, cmd)
	}
	if g.PaymentStatus == payment.StatusPaid || g.PaymentStatus == payment.StatusRefunded {
		return nil
	}
	res, err := h.finalizer.finalizeGlanced(ctx, cmd.OrderID, g, order.CauseClientConfirm(cmd.Actor.UserID), nil)
	if err != nil {
		return err
	}
	if res.Anomaly != nil {
		return payment.ErrNotCompleted.WithMessage("the provider's payment does not match this order")
	}
	return res.Order.RequirePaid()
}

func (h *ConfirmPaidHandler) collectCash(ctx context.Context, cmd ConfirmPaid) error {
	if !cmd.Actor.IsAdmin() {
		return ErrCashAdminOnly
	}
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := tx.Orders().Update(ctx, cmd.OrderID, func(o *order.Order) error {
			_, err := o.CollectCash(order.CauseAdmin(cmd.Actor.UserID), h.clock.Now())
			return err
		})
		return err
	})
}

// visibleGlance glances at an order the actor may see (Glance); others' orders are reported as not
// found, as visibleOrder does.
func visibleGlance(ctx context.Context, store UnitOfWork, actor Actor, id string) (OrderGlance, error) {
	g, err := store.Orders().Glance(ctx, id)
	if err != nil {
		return OrderGlance{}, err
	}
	if !g.IsVisibleTo(actor.UserID, actor.IsAdmin()) {
		return OrderGlance{}, order.ErrNotFound
	}
	return g, nil
}

// visibleOrder loads an order the actor may see; others' orders are reported as not found.
func visibleOrder(ctx context.Context, store UnitOfWork, actor Actor, id string) (*order.Order, error) {
	o, err := store.Orders().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !o.IsVisibleTo(actor.UserID, actor.IsAdmin()) {
		return nil, order.ErrNotFound
	}
	return o, nil
}
