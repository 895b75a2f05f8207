package app

import (
	"context"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ErrUnpaidReservationsExceeded refuses a card order that would take its customer past the cap on
// unpaid reservations. Nothing is reserved and no payment intent is opened.
var ErrUnpaidReservationsExceeded = fault.Conflict("unpaid_reservations_exceeded",
	"you hold too much stock in unpaid card orders; pay or cancel one of them first")

// UnpaidCap bounds the stock one customer may hold with card orders that are not paid yet: how
// many such orders, and how many units across them. Cash orders are confirmed at once and never
// count. A zero bound is off.
type UnpaidCap struct {
	MaxOrders int
	MaxUnits  int64
}

// admit refuses o when its customer's unpaid card orders, with o, would pass the cap: a read
// outside any transaction, so that no intent is opened for an order the cap refuses anyway.
func (c UnpaidCap) admit(ctx context.Context, orders OrderRepository, o *order.Order) error {
	if !c.applies(o) {
		return nil
	}
	held, err := orders.UnpaidCardHolding(ctx, o.CustomerID())
	if err != nil {
		return err
	}
	return c.Refusal(held, UnitsOf(o))
}

// admitInTx is admit again inside the checkout transaction, where the store serializes the
// customer's checkouts, so concurrent checkouts of one customer cannot both slip under the cap.
func (c UnpaidCap) admitInTx(ctx context.Context, orders OrderRepository, o *order.Order) error {
	if !c.applies(o) {
		return nil
	}
	return orders.AdmitUnpaid(ctx, o, c)
}

// applies tells whether the cap counts o: a card order, with a bound set.
func (c UnpaidCap) applies(o *order.Order) bool {
	return o.Payment().Method() == payment.MethodCard && (c.MaxOrders > 0 || c.MaxUnits > 0)
}

// Refusal is the error refusing an order of units more units to a customer who holds held in
// unpaid card orders, or nil when the cap admits it.
func (c UnpaidCap) Refusal(held UnpaidHolding, units int64) error {
	if c.MaxOrders > 0 && held.Orders >= c.MaxOrders {
		return ErrUnpaidReservationsExceeded.WithMessage(
			"you have %d unpaid card orders, the most allowed; pay or cancel one of them first", held.Orders)
	}
	if c.MaxUnits > 0 && held.Units+units > c.MaxUnits {
		return ErrUnpaidReservationsExceeded.WithMessage(
			"your unpaid card orders hold %d units; with these %d that passes the %d allowed; pay or cancel first",
			held.Units, units, c.MaxUnits)
	}
	return nil
}

// UnitsOf is how many units o holds, across its lines.
func UnitsOf(o *order.Order) int64 {
	var n int64
	for _, it := range o.Items() {
		n += it.Quantity
	}
	return n
}
