// Package order owns the order aggregate: what a customer bought (items priced from the catalog at
// the moment of ordering), who receives it and how, what it costs in total, where it stands
// (Pending → Confirmed → Shipped → Delivered; Cancelled; Refunded), its payment, and the timeline
// of every change with its cause. Totals are computed here, never taken from a client.
package order

import (
	"slices"
	"time"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Status is where the order stands in fulfillment.
type Status string

// Order statuses.
const (
	StatusPending   Status = "Pending"
	StatusConfirmed Status = "Confirmed"
	StatusShipped   Status = "Shipped"
	StatusDelivered Status = "Delivered"
	StatusCancelled Status = "Cancelled"
	StatusRefunded  Status = "Refunded"
)

// Limits on an order's content.
const (
	MaxLines       = 100
	MaxQuantity    = 1000
	MaxNumberChars = 32
)

// Errors reported by this package.
var (
	ErrNotFound         = fault.NotFound("order_not_found", "order not found")
	ErrNoItems          = fault.Invalid("items_empty", "an order needs at least one item")
	ErrTooManyItems     = fault.Invalid("items_too_many", "an order has at most 100 lines")
	ErrQuantityInvalid  = fault.Invalid("quantity_invalid", "quantity must be between 1 and 1000")
	ErrDuplicateProduct = fault.Invalid("duplicate_product", "each product may appear once; add up the quantities")
	ErrMixedCurrencies  = fault.Invalid("currency_mismatch", "all items of an order must be priced in the order's currency")
	ErrCustomerNeeded   = fault.Unauthenticated("customer_required", "a customer id is required")
	ErrTransition       = fault.Conflict("order_status_conflict", "the order's status does not allow this")
)

// Line is one requested product and quantity, before pricing.
type Line struct {
	Product  *catalog.Product
	Quantity int64
}

// Item is a priced line of an order: a snapshot of the product when it was ordered.
type Item struct {
	ProductID string
	Title     string
	SellerID  string
	UnitPrice money.Money
	Quantity  int64
}

// Subtotal returns unit price × quantity.
func (i Item) Subtotal() (money.Money, error) { return i.UnitPrice.Times(i.Quantity) }

// PlaceParams is everything needed to place an order.
type PlaceParams struct {
	ID, Number, CustomerID, PaymentID string
	Lines                             []Line
	Recipient                         Recipient
	Delivery                          Delivery
	DeliveryFee                       money.Money
	Method                            payment.Method
	Now                               time.Time
}

// Order is the aggregate root. Every change goes through a method that checks the status machine
// and records a Change on the timeline.
type Order struct {
	id          string
	number      string
	customerID  string
	items       []Item
	recipient   Recipient
	delivery    Delivery
	deliveryFee money.Money
	total       money.Money
	status      Status
	payment     *payment.Payment
	createdAt   time.Time
	updatedAt   time.Time
	version     int64
	timeline    []Change
	fresh       int // how many of timeline's last entries are not yet stored

	refunds       []Refund
	dispute       *Dispute
	disputeClosed bool
	// stockReturned is set once the items' stock went back to the catalog (cancel or restock),
	// so it can never go back twice.
	stockReturned bool
}

// Place prices the lines from the catalog, adds the delivery fee and starts a new order: card
// orders wait for payment (Pending), cash-on-delivery orders are Confirmed at once.
func Place(p PlaceParams) (*Order, error) {
	if p.CustomerID == "" {
		return nil, ErrCustomerNeeded
	}
	if p.Method != payment.MethodCard && p.Method != payment.MethodCash {
		return nil, fault.Invalid("payment_method_invalid", "payment method must be card or cash_on_delivery")
	}
	if err := p.Recipient.Validate(); err != nil {
		return nil, err
	}
	if err := p.Delivery.Validate(); err != nil {
		return nil, err
	}
	items, err := priceLines(p.Lines, p.DeliveryFee.Currency())
	if err != nil {
		return nil, err
	}
	total, err := totalOf(items, p.DeliveryFee)
	if err != nil {
		return nil, err
	}
	o := &Order{id: p.ID, number: p.Number, customerID: p.CustomerID, items: items,
		recipient: p.Recipient.normalized(), delivery: p.Delivery.normalized(), deliveryFee: p.DeliveryFee,
		total: total, status: StatusPending, payment: payment.New(p.PaymentID, p.Method, total),
		createdAt: p.Now, updatedAt: p.Now}
	o.record(p.Now, ChangePlaced, "", string(StatusPending), CauseCustomer(p.CustomerID))
	if p.Method == payment.MethodCash {
		o.moveTo(p.Now, ChangeConfirmed, StatusConfirmed, CauseCustomer(p.CustomerID))
	}
	return o, nil
}

func priceLines(lines []Line, cur money.Currency) ([]Item, error) {
	if len(lines) == 0 {
		return nil, ErrNoItems
	}
	if len(lines) > MaxLines {
		return nil, ErrTooManyItems
	}
	seen := make(map[string]bool, len(lines))
	items := make([]Item, 0, len(lines))
	for i, l := range lines {
		if l.Product == nil { // a caller's bug, but an error beats a panic (invariant 8)
			return nil, catalog.ErrNotFound.WithMessage("line %d has no product", i+1)
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			return nil, ErrQuantityInvalid
		}
		if seen[l.Product.ID()] {
			return nil, ErrDuplicateProduct
		}
		seen[l.Product.ID()] = true
		if l.Product.Price().Currency() != cur {
			return nil, ErrMixedCurrencies
		}
		items = append(items, Item{ProductID: l.Product.ID(), Title: l.Product.Title(),
			SellerID: l.Product.SellerID(), UnitPrice: l.Product.Price(), Quantity: l.Quantity})
	}
	return items, nil
}

func totalOf(items []Item, fee money.Money) (money.Money, error) {
	total := fee
	for _, it := range items {
		sub, err := it.Subtotal()
		if err != nil {
			return money.Money{}, err
		}
		if total, err = total.Add(sub); err != nil {
			return money.Money{}, err
		}
	}
	return total, nil
}

// Snapshot is the stored form of an order.
type Snapshot struct {
	ID, Number, CustomerID string
	Items                  []Item
	Recipient              Recipient
	Delivery               Delivery
	DeliveryFee, Total     money.Money
	Status                 Status
	Payment                payment.Snapshot
	CreatedAt, UpdatedAt   time.Time
	Version                int64
	Timeline               []Change
	Refunds                []Refund
	Dispute                *Dispute
	DisputeClosed          bool
	StockReturned          bool
}

// Restore rebuilds a stored order; only storage adapters call it.
// The order shares no memory with s: changing one never changes the other.
func Restore(s Snapshot) *Order {
	var dispute *Dispute
	if s.Dispute != nil {
		d := *s.Dispute
		dispute = &d
	}
	return &Order{id: s.ID, number: s.Number, customerID: s.CustomerID, items: slices.Clone(s.Items),
		recipient: s.Recipient, delivery: s.Delivery, deliveryFee: s.DeliveryFee, total: s.Total,
		status: s.Status, payment: payment.Restore(s.Payment), createdAt: s.CreatedAt,
		updatedAt: s.UpdatedAt, version: s.Version, timeline: slices.Clone(s.Timeline),
		refunds: slices.Clone(s.Refunds), dispute: dispute, disputeClosed: s.DisputeClosed,
		stockReturned: s.StockReturned}
}

// Snapshot returns the order's stored form.
func (o *Order) Snapshot() Snapshot {
	return Snapshot{ID: o.id, Number: o.number, CustomerID: o.customerID, Items: o.Items(),
		Recipient: o.recipient, Delivery: o.delivery, DeliveryFee: o.deliveryFee, Total: o.total,
		Status: o.status, Payment: o.payment.Snapshot(), CreatedAt: o.createdAt,
		UpdatedAt: o.updatedAt, Version: o.version, Timeline: o.Timeline(), Refunds: o.Refunds(),
		Dispute: o.Dispute(), DisputeClosed: o.disputeClosed, StockReturned: o.stockReturned}
}

// AttachIntent records the provider intent that collects the order's card payment.
func (o *Order) AttachIntent(provider, intentID string) error {
	return o.payment.AttachIntent(provider, intentID)
}

// ApplyIntent lets the provider's view of the intent move the payment, and with it the order.
// A payment that becomes Paid confirms a Pending order. It reports what changed.
func (o *Order) ApplyIntent(in payment.Intent, cause Cause, now time.Time) (payment.Outcome, error) {
	before := o.payment.Status()
	outcome, err := o.payment.ApplyIntent(in, o.id, now)
	if err != nil {
		return outcome, err
	}
	switch outcome {
	case payment.BecamePaid:
		o.recordPayment(now, ChangePaymentSucceeded, before, cause)
		if o.status == StatusPending {
			o.moveTo(now, ChangeConfirmed, StatusConfirmed, cause)
		}
	case payment.BecameFailed:
		o.recordPayment(now, ChangePaymentFailed, before, cause)
	}
	return outcome, nil
}

// CollectCash records the cash a courier collected for a cash-on-delivery order.
func (o *Order) CollectCash(cause Cause, now time.Time) (payment.Outcome, error) {
	if o.status == StatusCancelled || o.status == StatusRefunded {
		return payment.Unchanged, ErrTransition.WithMessage("a %s order cannot collect payment", o.status)
	}
	before := o.payment.Status()
	outcome, err := o.payment.CollectCash(now)
	if err == nil && outcome == payment.BecamePaid {
		o.recordPayment(now, ChangePaymentSucceeded, before, cause)
	}
	return outcome, err
}

// RequirePaid returns ErrNotCompleted unless the payment is Paid (or was, and is now refunded).
func (o *Order) RequirePaid() error {
	if s := o.payment.Status(); s != payment.StatusPaid && s != payment.StatusRefunded {
		return payment.ErrNotCompleted
	}
	return nil
}

func (o *Order) recordPayment(now time.Time, t ChangeType, before payment.Status, cause Cause) {
	o.record(now, t, string(before), string(o.payment.Status()), cause)
}

func (o *Order) moveTo(now time.Time, t ChangeType, to Status, cause Cause) {
	from := o.status
	o.status = to
	o.record(now, t, string(from), string(to), cause)
}

func (o *Order) record(now time.Time, t ChangeType, from, to string, cause Cause) {
	o.timeline = append(o.timeline, Change{At: now, Type: t, From: from, To: to, Cause: cause})
	o.fresh++
	o.updatedAt = now
}

// NewChanges returns the changes made since the order was loaded or placed; the repository stores
// them and the application turns them into integration events.
func (o *Order) NewChanges() []Change {
	out := make([]Change, o.fresh)
	copy(out, o.timeline[len(o.timeline)-o.fresh:])
	return out
}

// IsVisibleTo reports whether a user may see the order: its customer or an admin.
func (o *Order) IsVisibleTo(userID string, isAdmin bool) bool {
	return VisibleTo(o.customerID, userID, isAdmin)
}

// VisibleTo reports whether a user may see an order of customerID: its customer or an admin.
func VisibleTo(customerID, userID string, isAdmin bool) bool {
	return isAdmin || (userID != "" && userID == customerID)
}

// ID returns the order id.
func (o *Order) ID() string { return o.id }

// Number returns the human-friendly order number (WX-…).
func (o *Order) Number() string { return o.number }

// CustomerID returns who placed the order.
func (o *Order) CustomerID() string { return o.customerID }

// Items returns a copy of the order's items.
func (o *Order) Items() []Item { return append([]Item(nil), o.items...) }

// Recipient returns who receives the order.
func (o *Order) Recipient() Recipient { return o.recipient }

// Delivery returns where and how the order is delivered.
func (o *Order) Delivery() Delivery { return o.delivery }

// DeliveryFee returns the delivery fee included in the total.
func (o *Order) DeliveryFee() money.Money { return o.deliveryFee }

// Total returns the amount the customer pays: items plus delivery.
func (o *Order) Total() money.Money { return o.total }

// Status returns the order status.
func (o *Order) Status() Status { return o.status }

// Payment returns the order's payment (read it; change it through the order's methods).
func (o *Order) Payment() *payment.Payment { return o.payment }

// CreatedAt returns when the order was placed.
func (o *Order) CreatedAt() time.Time { return o.createdAt }

// UpdatedAt returns when the order last changed.
func (o *Order) UpdatedAt() time.Time { return o.updatedAt }

// Version returns the stored version, for optimistic checks.
func (o *Order) Version() int64 { return o.version }

// Timeline returns a copy of every change, oldest first.
func (o *Order) Timeline() []Change { return append([]Change(nil), o.timeline...) }
