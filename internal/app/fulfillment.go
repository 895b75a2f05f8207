package app

import (
	"context"
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ErrNotOrderSeller reports a seller acting on an order with items of other sellers.
var ErrNotOrderSeller = fault.Forbidden("not_order_seller", "only an admin or the seller of every item may do this")

// FulfillmentHandler moves confirmed orders to the customer: shipped, then delivered. Delivering a
// cash-on-delivery order also records the cash the courier collected.
type FulfillmentHandler struct {
	store UnitOfWork
	clock Clock
}

// NewFulfillmentHandler builds the shipping use cases.
func NewFulfillmentHandler(store UnitOfWork, clock Clock) *FulfillmentHandler {
	return &FulfillmentHandler{store: store, clock: clock}
}

// Ship marks the order shipped.
func (h *FulfillmentHandler) Ship(ctx context.Context, actor Actor, orderID string) (*order.Order, error) {
	return h.change(ctx, actor, orderID, func(o *order.Order, cause order.Cause, now time.Time) error {
		return o.Ship(cause, now)
	})
}

// Deliver marks the order delivered (and its cash collected, for cash on delivery).
func (h *FulfillmentHandler) Deliver(ctx context.Context, actor Actor, orderID string) (*order.Order, error) {
	return h.change(ctx, actor, orderID, func(o *order.Order, cause order.Cause, now time.Time) error {
		if err := o.Deliver(cause, now); err != nil {
			return err
		}
		if o.Payment().Method() != payment.MethodCash {
			return nil
		}
		_, err := o.CollectCash(cause, now)
		return err
	})
}

func (h *FulfillmentHandler) change(ctx context.Context, actor Actor, orderID string,
	step func(o *order.Order, cause order.Cause, now time.Time) error) (*order.Order, error) {
	if err := actor.Require(RoleAdmin, RoleSeller); err != nil {
		return nil, err
	}
	var out *order.Order
	err := h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			if !actor.IsAdmin() && !o.SoldEntirelyBy(actor.UserID) {
				return ErrNotOrderSeller
			}
			return step(o, order.Cause(string(roleOf(actor))+" "+actor.UserID), h.clock.Now())
		})
		if err != nil {
			return err
		}
		out = o
		answer(ctx, o)
		return nil
	})
	return out, err
}

// RequestFulfillment hands a paid (or cash-on-delivery) order to the warehouse; the fulfillment
// consumer calls it on orders.paid. Repeats, and orders that are not Confirmed, change nothing.
func (h *FulfillmentHandler) RequestFulfillment(ctx context.Context, orderID string) error {
	return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := tx.Orders().Update(ctx, orderID, func(o *order.Order) error {
			o.HandToFulfillment(order.CauseFulfillment, h.clock.Now())
			return nil
		})
		return err
	})
}

func roleOf(a Actor) Role {
	if a.IsAdmin() {
		return RoleAdmin
	}
	return RoleSeller
}
