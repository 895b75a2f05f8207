package order

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
)

// RefundStatus is where one refund stands at the provider.
type RefundStatus string

// Refund statuses (the provider's vocabulary).
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Errors of refunds.
var (
	ErrRefundUnpaid        = fault.Conflict("refund_not_paid", "only a paid order can be refunded")
	ErrRefundTooLarge      = fault.Conflict("refund_exceeds_paid", "the refund would exceed what was paid")
	ErrAlreadyRefunded     = fault.Conflict("already_refunded", "the order has been refunded in full")
	ErrRefundAmount        = fault.Invalid("refund_amount_invalid", "the refund amount must be greater than zero")
	ErrRestockNeedsFull    = fault.Invalid("restock_requires_full_refund", "restock is only possible with the refund that completes the full refund")
	ErrRefundNotFound      = fault.NotFound("refund_not_found", "refund not found")
	ErrRefundReasonTooLong = fault.Invalid("refund_reason_invalid", "reason must be at most 500 characters")
)

const maxReasonChars = 500

// Refund is money going back to the customer, in full or in part.
type Refund struct {
	ID               string
	Amount           money.Money
	Status           RefundStatus
	Reason           string
	Restock          bool
	ProviderRefundID string
	// External refunds were made outside the service (e.g. in the provider's dashboard) and synced in.
	External  bool
	CreatedAt time.Time
}

// RefundRequest asks to refund Amount (nil = everything still refundable).
type RefundRequest struct {
	ID      string
	Amount  *money.Money
	Reason  string
	Restock bool
}

// RequestRefund books a pending refund. The booked amount counts against what can still be
// refunded at once, so two concurrent full refunds cannot both pass.
func (o *Order) RequestRefund(req RefundRequest, cause Cause, now time.Time) (Refund, error) {
	if !o.payment.IsPaid() {
		if o.payment.Status() == payment.StatusRefunded {
			return Refund{}, ErrAlreadyRefunded
		}
		return Refund{}, ErrRefundUnpaid
	}
	// Characters, not bytes (500 Cyrillic letters are 1000 bytes); text the database would refuse
	// (invalid UTF-8, NUL) is a 4xx here rather than a 5xx at commit (invariant 8).
	if !utf8.ValidString(req.Reason) || strings.ContainsRune(req.Reason, 0) || utf8.RuneCountInString(req.Reason) > maxReasonChars {
		return Refund{}, ErrRefundReasonTooLong
	}
	refundable, err := o.Refundable()
	if err != nil {
		return Refund{}, err
	}
	amount := refundable
	if req.Amount != nil {
		amount = *req.Amount
	}
	if err := checkRefundAmount(amount, refundable); err != nil {
		return Refund{}, err
	}
	if req.Restock && amount != refundable {
		return Refund{}, ErrRestockNeedsFull
	}
	r := Refund{ID: req.ID, Amount: amount, Status: RefundPending, Reason: req.Reason, Restock: req.Restock, CreatedAt: now}
	o.refunds = append(o.refunds, r)
	o.record(now, ChangeRefundRequested, "", r.Amount.Decimal(), cause)
	return r, nil
}

func checkRefundAmount(amount, refundable money.Money) error {
	switch {
	case refundable.IsZero():
		return ErrAlreadyRefunded
	case amount.Currency() != refundable.Currency():
		return money.ErrCurrencyMismatch
	case amount.Minor() <= 0:
		return ErrRefundAmount
	case amount.Minor() > refundable.Minor():
		return ErrRefundTooLarge.WithMessage("at most %s can still be refunded", refundable)
	}
	return nil
}

// SettleRefund records the provider's final answer for refund id. It reports whether the order's
// stock must now be returned; that happens at most once in the order's life. Settling a refund
// that is no longer pending changes nothing.
func (o *Order) SettleRefund(id, providerRefundID string, succeeded bool, cause Cause, now time.Time) (restock bool, err error) {
	i := o.refundIndex(id)
	if i < 0 {
		return false, ErrRefundNotFound
	}
	if o.refunds[i].Status != RefundPending {
		return false, nil
	}
	// Restore shares the snapshot's slice; write to our own copy so that a caller's snapshot (a
	// repository's stored state, a transaction being rolled back) never changes behind its back.
	o.refunds = append([]Refund(nil), o.refunds...)
	r := &o.refunds[i]
	r.ProviderRefundID = providerRefundID
	if !succeeded {
		r.Status = RefundFailed
		o.record(now, ChangeRefundFailed, string(RefundPending), string(RefundFailed), cause)
		return false, nil
	}
	r.Status = RefundSucceeded
	o.afterRefund(now, cause)
	return o.restockDue() && o.takeStockBack(), nil
}

// restockDue reports whether the stock should go back: only once everything has been refunded and
// a succeeded refund asked for it. Checking at request time is not enough: the restocking refund
// may complete the booked total while an earlier pending one later fails, which would return
// the stock of an order that was only partly refunded (and can still be shipped).
func (o *Order) restockDue() bool {
	if o.payment.Status() != payment.StatusRefunded {
		return false
	}
	for _, r := range o.refunds {
		if r.Restock && r.Status == RefundSucceeded {
			return true
		}
	}
	return false
}

// SyncProviderRefunds brings in refunds made outside the service: when the provider reports more
// refunded in total than this order knows of (settled or pending), the difference is recorded as
// an external, succeeded refund. It reports whether anything changed.
func (o *Order) SyncProviderRefunds(id string, providerTotal int64, cause Cause, now time.Time) (bool, error) {
	known, err := o.refundedOrPending()
	if err != nil {
		return false, err
	}
	if providerTotal <= known.Minor() || !o.payment.IsPaid() {
		return false, nil
	}
	diff, err := money.New(providerTotal-known.Minor(), o.total.Currency())
	if err != nil {
		return false, err
	}
	if refundable, _ := o.Refundable(); diff.Minor() > refundable.Minor() {
		diff = refundable
	}
	// Everything is already booked (a pending refund covers the rest) and the provider reports more
	// than the order's total: nothing real to record. Recording a zero refund here would add one
	// on every repeated sync.
	if diff.IsZero() {
		return false, nil
	}
	o.refunds = append(o.refunds, Refund{ID: id, Amount: diff, Status: RefundSucceeded, External: true,
		Reason: "refunded at the provider", CreatedAt: now})
	o.afterRefund(now, cause)
	return true, nil
}

func (o *Order) afterRefund(now time.Time, cause Cause) {
	refunded, _ := o.RefundedAmount()
	o.record(now, ChangeRefunded, "", refunded.Decimal(), cause)
	if refunded.Minor() < o.total.Minor() {
		return
	}
	o.payment.MarkRefunded()
	if o.status != StatusRefunded {
		o.moveTo(now, ChangeFullyRefunded, StatusRefunded, cause)
	}
}

// Refundable returns what can still be refunded: the total minus settled and pending refunds.
func (o *Order) Refundable() (money.Money, error) {
	booked, err := o.refundedOrPending()
	if err != nil {
		return money.Money{}, err
	}
	return o.total.Sub(booked)
}

// RefundedAmount returns the sum of succeeded refunds.
func (o *Order) RefundedAmount() (money.Money, error) {
	return o.sumRefunds(func(r Refund) bool { return r.Status == RefundSucceeded })
}

func (o *Order) refundedOrPending() (money.Money, error) {
	return o.sumRefunds(func(r Refund) bool { return r.Status != RefundFailed })
}

func (o *Order) sumRefunds(keep func(Refund) bool) (money.Money, error) {
	sum := money.Zero(o.total.Currency())
	for _, r := range o.refunds {
		if !keep(r) {
			continue
		}
		var err error
		if sum, err = sum.Add(r.Amount); err != nil {
			return money.Money{}, err
		}
	}
	return sum, nil
}

func (o *Order) refundIndex(id string) int {
	for i, r := range o.refunds {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// Refunds returns a copy of the order's refunds, oldest first.
func (o *Order) Refunds() []Refund { return append([]Refund(nil), o.refunds...) }

// takeStockBack marks the items' stock as returned and reports whether this call did it.
func (o *Order) takeStockBack() bool {
	if o.stockReturned {
		return false
	}
	o.stockReturned = true
	return true
}
