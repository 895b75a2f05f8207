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

// admit refuses o when its customer's unpaid card orders, with o, would pass the cap. Run inside
// the checkout transaction, the holding is read under the customer's serialization, so concurrent
// checkouts of one customer cannot both slip under the cap.
func (c UnpaidCap) admit(ctx context.Context, orders OrderRepository, o *order.Order) error {
	if o.Payment().Method() != payment.MethodCard || (c.MaxOrders <= 0 && c.MaxUnits <= 0) {
		return nil
	}
	held, err := orders.UnpaidCardHolding(ctx, o.CustomerID())
	if err != nil {
		return err
	}
	if c.MaxOrders > 0 && held.Orders >= c.MaxOrders {
		return ErrUnpaidReservationsExceeded.WithMessage(
			"you have %d unpaid card orders, the most allowed; pay or cancel one of them first", held.Orders)
	}
	units := unitsOf(o)
	if c.MaxUnits > 0 && held.Units+units > c.MaxUnits {
		return ErrUnpaidReservationsExceeded.WithMessage(
			"your unpaid card orders hold %d units; with these %d that passes the %d allowed; pay or cancel first",
			held.Units, units, c.MaxUnits)
	}
	return nil
}

func unitsOf(o *order.Order) int64 {
	var n int64
	for _, it := range o.Items() {
		n += it.Quantity
	}
	return n
}
