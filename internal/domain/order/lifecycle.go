package order

import (
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
)

// Errors of the order's lifecycle.
var (
	ErrNotCancellable = fault.Conflict("order_not_cancellable", "the order can no longer be cancelled")
	ErrPaidCancel     = fault.Conflict("order_already_paid", "a paid order can only be cancelled by an admin, who refunds it")
	ErrNotShippable   = fault.Conflict("order_not_shippable", "only a confirmed, paid-or-cash order can be shipped")
	ErrNotDeliverable = fault.Conflict("order_not_deliverable", "only a shipped order can be delivered")
)

// Cancel stops the order. Customers may cancel while it is unpaid; admins also after payment
// (the caller then refunds it). Shipped, delivered and refunded orders cannot be cancelled;
// cancelling a cancelled order changes nothing. It reports whether the stock must be released
// now (at most once in the order's life).
func (o *Order) Cancel(byAdmin bool, cause Cause, now time.Time) (releaseStock bool, err error) {
	switch o.status {
	case StatusCancelled:
		return false, nil
	case StatusShipped, StatusDelivered, StatusRefunded:
		return false, ErrNotCancellable.WithMessage("a %s order cannot be cancelled", o.status)
	}
	if o.payment.IsPaid() && !byAdmin {
		return false, ErrPaidCancel
	}
	o.moveTo(now, ChangeCancelled, StatusCancelled, cause)
	return o.takeStockBack(), nil
}

// Ship hands a confirmed order to the carrier. A card order is confirmed only once paid.
func (o *Order) Ship(cause Cause, now time.Time) error {
	if o.status == StatusShipped {
		return nil
	}
	if o.status != StatusConfirmed {
		return ErrNotShippable.WithMessage("a %s order cannot be shipped", o.status)
	}
	o.moveTo(now, ChangeShipped, StatusShipped, cause)
	return nil
}

// Deliver records the hand-over to the customer.
func (o *Order) Deliver(cause Cause, now time.Time) error {
	if o.status == StatusDelivered {
		return nil
	}
	if o.status != StatusShipped {
		return ErrNotDeliverable.WithMessage("a %s order cannot be delivered", o.status)
	}
	o.moveTo(now, ChangeDelivered, StatusDelivered, cause)
	return nil
}

// HandToFulfillment records that the warehouse was asked to prepare the order, once: it reports
// false when that was recorded before or the order cannot be fulfilled (not Confirmed).
func (o *Order) HandToFulfillment(cause Cause, now time.Time) bool {
	if o.status != StatusConfirmed {
		return false
	}
	for _, c := range o.timeline {
		if c.Type == ChangeFulfillmentRequested {
			return false
		}
	}
	o.record(now, ChangeFulfillmentRequested, "", string(o.status), cause)
	return true
}

// SoldEntirelyBy reports whether every item of the order is sold by seller.
func (o *Order) SoldEntirelyBy(sellerID string) bool {
	for _, it := range o.items {
		if it.SellerID != sellerID {
			return false
		}
	}
	return sellerID != "" && len(o.items) > 0
}

// Dispute is a chargeback the customer opened with their bank.
type Dispute struct {
	Status   string
	Reason   string
	Amount   money.Money
	OpenedAt time.Time
}

// RecordDispute notes the dispute's latest state from the provider. A closed dispute never
// reopens through a late "created" event. It reports whether anything changed.
func (o *Order) RecordDispute(d Dispute, closed bool, cause Cause, now time.Time) bool {
	// A closing event whose status equals the last update's (charge.dispute.updated "lost" delivered
	// before charge.dispute.closed "lost") must still close the dispute, or a late "created" would
	// reopen it.
	if o.dispute != nil && ((o.disputeClosed && !closed) || (o.dispute.Status == d.Status && o.disputeClosed == closed)) {
		return false
	}
	if o.dispute != nil && d.OpenedAt.IsZero() {
		d.OpenedAt = o.dispute.OpenedAt
	}
	from := ""
	if o.dispute != nil {
		from = o.dispute.Status
	}
	o.dispute, o.disputeClosed = &d, closed
	o.record(now, ChangeDisputed, from, d.Status, cause)
	return true
}

// Dispute returns the order's dispute, or nil.
func (o *Order) Dispute() *Dispute {
	if o.dispute == nil {
		return nil
	}
	d := *o.dispute
	return &d
}
