package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// RefundHandler returns money to customers. A refund is booked under the order's lock first (so
// concurrent refunds can never add up to more than was paid), then sent to the provider with the
// refund's id as idempotency key, then settled under the lock again — restocking at most once.
// A refund the provider could not be reached for stays pending and is retried by the reconciler
// with the same key, so it is never made twice.
type RefundHandler struct {
	store     UnitOfWork
	providers *Providers
	clock     Clock
	log       *slog.Logger
	observe   Observer
}

// NewRefundHandler builds the refund use case.
func NewRefundHandler(store UnitOfWork, providers *Providers, clock Clock, log *slog.Logger, observe Observer) *RefundHandler {
	return &RefundHandler{store: store, providers: providers, clock: clock, log: log, observe: observerOrNop(observe)}
}

// RefundOrder is an admin's refund: Amount (decimal major units) nil means everything refundable.
type RefundOrder struct {
	Actor   Actor
	OrderID string
	Amount  *string
	Reason  string
	Restock bool
}

// ErrRefundPending reports a refund the provider has not confirmed yet; it will be retried.
var ErrRefundPending = fault.Unavailable("refund_pending", "the refund is booked but the provider has not confirmed it yet; it will be retried")

// Handle books, sends and settles the refund, and returns it with its final status.
func (h *RefundHandler) Handle(ctx context.Context, cmd RefundOrder) (order.Refund, error) {
	if err := cmd.Actor.Require(RoleAdmin); err != nil {
		return order.Refund{}, err
	}
	o, err := h.store.Orders().Get(ctx, cmd.OrderID)
	if err != nil {
		return order.Refund{}, err
	}
	req := order.RefundRequest{ID: idFor(ctx, "refund"), Reason: cmd.Reason, Restock: cmd.Restock}
	if cmd.Amount != nil {
		amount, err := money.ParseDecimal(*cmd.Amount, o.Total().Currency())
		if err != nil {
			return order.Refund{}, order.ErrRefundAmount.WithMessage("amount: %v", err)
		}
		req.Amount = &amount
	}
	return h.refund(ctx, cmd.OrderID, req, order.CauseAdmin(cmd.Actor.UserID))
}

// refund books req on the order and carries it out.
func (h *RefundHandler) refund(ctx context.Context, orderID string, req order.RefundRequest, cause order.Cause) (order.Refund, error) {
	var booked order.Refund
	err := h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			var err error
			booked, err = o.RequestRefund(req, cause, h.clock.Now())
			return err
		})
		answer(ctx, booked) // booked and pending: what a retry with the same Idempotency-Key gets until settled
		return err
	})
	if err != nil {
		return order.Refund{}, err
	}
	return h.execute(ctx, orderID, booked, cause)
}

// refundAtProvider sends r to the provider that took the order's payment; one no longer enabled
// is unavailable, so the refund stays pending until it is again.
func (h *RefundHandler) refundAtProvider(ctx context.Context, o *order.Order, r order.Refund) (RefundResult, error) {
	gateway, err := h.providers.Gateway(o.Payment().Provider())
	if err != nil {
		return RefundResult{}, err
	}
	return gateway.Refund(ctx, RefundRequest{RefundID: r.ID, IntentID: o.Payment().IntentID(), Amount: r.Amount, Reason: r.Reason})
}

// execute sends a booked refund to the provider and settles it.
func (h *RefundHandler) execute(ctx context.Context, orderID string, r order.Refund, cause order.Cause) (order.Refund, error) {
	o, err := h.store.Orders().Get(ctx, orderID)
	if err != nil {
		return r, err
	}
	if o.Payment().Method() == payment.MethodCash {
		return h.settle(ctx, orderID, r.ID, "", true, cause)
	}
	res, err := h.refundAtProvider(ctx, o, r)
	switch {
	case err != nil && isRetryable(err):
		h.log.WarnContext(ctx, "refund left pending; the reconciler retries it", "order_id", orderID, "refund_id", r.ID, "error", err)
		return r, ErrRefundPending.Wrap(err)
	case err != nil:
		settled, serr := h.settle(ctx, orderID, r.ID, "", false, cause)
		return settled, errors.Join(err, serr)
	case res.Status == string(order.RefundSucceeded):
		return h.settle(ctx, orderID, r.ID, res.ID, true, cause)
	case res.Status == string(order.RefundFailed) || res.Status == "canceled":
		return h.settle(ctx, orderID, r.ID, res.ID, false, cause)
	}
	return r, nil // still pending at the provider: a later retry or webhook settles it
}

// settle records the provider's answer, returns the stock if the refund asked for it (once), and
// publishes the events, in one transaction.
func (h *RefundHandler) settle(ctx context.Context, orderID, refundID, providerID string, ok bool, cause order.Cause) (order.Refund, error) {
	var settled order.Refund
	var wasPending bool
	err := h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var restock bool
		o, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			var err error
			wasPending = refundByID(o, refundID).Status == order.RefundPending
			restock, err = o.SettleRefund(refundID, providerID, ok, cause, h.clock.Now())
			return err
		})
		if err != nil {
			return err
		}
		settled = refundByID(o, refundID)
		answer(ctx, settled)
		if restock {
			if err := releaseItems(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && wasPending {
		h.observe.RefundSettled(settled.Amount.Currency().Code(), settled.Amount.Minor(), string(settled.Status))
	}
	return settled, err
}

// RetryPending sends again every refund of the order that is still pending, with its own id as
// the idempotency key.
func (h *RefundHandler) RetryPending(ctx context.Context, orderID string) error {
	o, err := h.store.Orders().Get(ctx, orderID)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range o.Refunds() {
		if r.Status == order.RefundPending && !r.External {
			_, err := h.execute(ctx, orderID, r, order.CauseReconciler)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SyncFromProvider brings in refunds made at the provider (e.g. in its dashboard): it re-reads
// the intent and records whatever the provider refunded beyond what the order knows of. before
// runs first in the same transaction (the webhook's inbox claim).
func (h *RefundHandler) SyncFromProvider(ctx context.Context, orderID string, cause order.Cause,
	before func(ctx context.Context, tx Tx) (bool, error)) error {
	o, err := h.store.Orders().Get(ctx, orderID)
	if err != nil {
		return err
	}
	gateway, err := h.providers.Gateway(o.Payment().Provider())
	if err != nil {
		return err
	}
	intent, err := gateway.GetIntent(ctx, o.Payment().IntentID())
	if err != nil {
		return err
	}
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if proceed, err := before(ctx, tx); err != nil || !proceed {
			return err
		}
		_, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			_, err := o.SyncProviderRefunds(NewID(), intent.AmountRefunded, cause, h.clock.Now())
			return err
		})
		return err
	})
}

// releaseItems gives every item's quantity back to the catalog.
func releaseItems(ctx context.Context, tx Tx, o *order.Order) error {
	for _, it := range o.Items() {
		if err := tx.Products().Release(ctx, it.ProductID, it.Quantity); err != nil {
			return err
		}
	}
	return nil
}

func refundByID(o *order.Order, id string) order.Refund {
	for _, r := range o.Refunds() {
		if r.ID == id {
			return r
		}
	}
	return order.Refund{}
}

func isRetryable(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == fault.KindUnavailable
}
