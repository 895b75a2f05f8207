package app

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// CancelHandler stops orders: the customer's own while unpaid, any for an admin (a paid one is
// refunded in full), and the reconciler's expired ones. The intent is cancelled at the provider
// before the order, so a customer cannot pay for an order that is already cancelled.
type CancelHandler struct {
	store     UnitOfWork
	providers *Providers
	finalizer *PaymentFinalizer
	refunds   *RefundHandler
	clock     Clock
	log       *slog.Logger
}

// NewCancelHandler builds the cancel use case.
func NewCancelHandler(store UnitOfWork, providers *Providers, finalizer *PaymentFinalizer, refunds *RefundHandler,
	clock Clock, log *slog.Logger) *CancelHandler {
	return &CancelHandler{store: store, providers: providers, finalizer: finalizer, refunds: refunds, clock: clock, log: log}
}

// CancelOrder is a request to cancel.
type CancelOrder struct {
	Actor   Actor
	OrderID string
}

// Handle cancels the order as the actor may, and returns it.
func (h *CancelHandler) Handle(ctx context.Context, cmd CancelOrder) (*order.Order, error) {
	if err := cmd.Actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return nil, err
	}
	o, err := visibleOrder(ctx, h.store, cmd.Actor, cmd.OrderID)
	if err != nil {
		return nil, err
	}
	cause := order.CauseCustomer(cmd.Actor.UserID)
	if cmd.Actor.IsAdmin() {
		cause = order.CauseAdmin(cmd.Actor.UserID)
	}
	return h.cancel(ctx, o, cmd.Actor.IsAdmin(), cause)
}

// Expire cancels an unpaid card order whose payment time ran out.
func (h *CancelHandler) Expire(ctx context.Context, orderID string) (*order.Order, error) {
	o, err := h.store.Orders().Get(ctx, orderID)
	if err != nil {
		return nil, err
	}
	return h.cancel(ctx, o, false, order.CauseReconciler)
}

func (h *CancelHandler) cancel(ctx context.Context, o *order.Order, byAdmin bool, cause order.Cause) (*order.Order, error) {
	if o.Status() == order.StatusCancelled {
		return o, nil
	}
	// Try the rule on this loaded instance, which is never saved: a cancel the order's state
	// forbids is refused before the provider is called. commitCancel applies it for real.
	if _, err := o.Cancel(byAdmin, cause, h.clock.Now()); err != nil {
		return nil, err
	}
	if err := h.stopIntent(ctx, o); err != nil {
		return nil, err
	}
	cancelled, err := h.commitCancel(ctx, o.ID(), byAdmin, cause)
	if err != nil || !cancelled.Payment().IsPaid() {
		return cancelled, err
	}
	if _, err := h.refunds.refund(ctx, o.ID(), order.RefundRequest{ID: NewID(), Reason: "order cancelled"}, cause); err != nil {
		return nil, err
	}
	return h.store.Orders().Get(ctx, o.ID())
}

// stopIntent cancels an unpaid card intent at the provider. If the customer paid meanwhile, the
// payment is finalized instead and the cancel goes on only if the actor may cancel paid orders.
func (h *CancelHandler) stopIntent(ctx context.Context, o *order.Order) error {
	p := o.Payment()
	if p.Method() != payment.MethodCard || p.IsPaid() || p.Status() == payment.StatusRefunded {
		return nil
	}
	gateway, err := h.providers.Gateway(p.Provider())
	if err != nil {
		return err
	}
	_, cancelErr := gateway.CancelIntent(ctx, p.IntentID())
	if cancelErr == nil {
		return nil
	}
	res, err := h.finalizer.Finalize(ctx, o.ID(), order.CauseReconciler)
	if err != nil {
		return err
	}
	if res.Order.Payment().IsPaid() {
		return nil // paid after all: commitCancel decides whether this actor may still cancel
	}
	return cancelErr
}

func (h *CancelHandler) commitCancel(ctx context.Context, orderID string, byAdmin bool, cause order.Cause) (*order.Order, error) {
	var out *order.Order
	err := h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var release bool
		o, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			var err error
			release, err = o.Cancel(byAdmin, cause, h.clock.Now())
			return err
		})
		if err != nil {
			return err
		}
		if release {
			if err := releaseItems(ctx, tx, o); err != nil {
				return err
			}
		}
		out = o
		answer(ctx, o) // the recovery point of an Idempotency-Key: cancelled, answered so
		return nil
	})
	return out, err
}
