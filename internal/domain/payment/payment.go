// Package payment owns how an order is paid: the payment's status machine
// (Pending → Paid / Failed → Refunded), the provider's view of a payment intent, and the checks
// that decide whether what a provider reports may move our payment forward. It trusts no caller:
// a payment becomes Paid only from an intent that succeeded for this order, amount and currency.
package payment

import (
	"strings"
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
)

// Status is where a payment stands. The four values are the public contract.
type Status string

// Payment statuses.
const (
	StatusPending  Status = "Pending"
	StatusPaid     Status = "Paid"
	StatusFailed   Status = "Failed"
	StatusRefunded Status = "Refunded"
)

// Method is how the customer pays.
type Method string

// Payment methods.
const (
	MethodCard Method = "card"
	MethodCash Method = "cash_on_delivery"
)

// ProviderCash names the "provider" of cash-on-delivery payments, which have no intent.
const ProviderCash = "cash"

// Errors reported by this package.
var (
	ErrNotCompleted    = fault.Conflict("payment_not_completed", "the payment has not been completed")
	ErrAmountMismatch  = fault.Conflict("payment_amount_mismatch", "the provider's amount or currency does not match the order")
	ErrOrderMismatch   = fault.Conflict("payment_order_mismatch", "the provider's intent does not belong to this order")
	ErrNotCash         = fault.Conflict("not_cash_on_delivery", "only cash-on-delivery payments are collected by hand")
	ErrNotCard         = fault.Conflict("not_card_payment", "the order is not paid by card")
	ErrAlreadyAttached = fault.Conflict("intent_already_attached", "the payment already has an intent")

	// errIntentIDRequired is unexported so as not to grow the API while the app layer is written
	// against it; exporting it (as ErrIntentIDRequired) is recommended.
	errIntentIDRequired = fault.Invalid("intent_id_required", "the provider's intent id is required")
)

// Payment is the order's payment. It lives inside the order aggregate, so the order's lock guards it.
type Payment struct {
	id             string
	method         Method
	provider       string
	intentID       string
	amount         money.Money
	status         Status
	failureCode    string
	failureMessage string
	paidAt         time.Time
}

// New starts a pending payment of amount by method.
func New(id string, method Method, amount money.Money) *Payment {
	p := &Payment{id: id, method: method, amount: amount, status: StatusPending}
	if method == MethodCash {
		p.provider = ProviderCash
	}
	return p
}

// Snapshot is the stored form of a payment; storage adapters read and write it.
type Snapshot struct {
	ID, Provider, IntentID      string
	Method                      Method
	Amount                      money.Money
	Status                      Status
	FailureCode, FailureMessage string
	PaidAt                      time.Time
}

// Restore rebuilds a stored payment.
func Restore(s Snapshot) *Payment {
	return &Payment{id: s.ID, method: s.Method, provider: s.Provider, intentID: s.IntentID,
		amount: s.Amount, status: s.Status, failureCode: s.FailureCode,
		failureMessage: s.FailureMessage, paidAt: s.PaidAt}
}

// Snapshot returns the payment's stored form.
func (p *Payment) Snapshot() Snapshot {
	return Snapshot{ID: p.id, Method: p.method, Provider: p.provider, IntentID: p.intentID,
		Amount: p.amount, Status: p.status, FailureCode: p.failureCode,
		FailureMessage: p.failureMessage, PaidAt: p.paidAt}
}

// AttachIntent records the provider intent that will collect a card payment.
func (p *Payment) AttachIntent(provider, intentID string) error {
	if p.method != MethodCard {
		return ErrNotCard
	}
	if p.intentID != "" {
		return ErrAlreadyAttached
	}
	if intentID == "" {
		return errIntentIDRequired
	}
	p.provider, p.intentID = provider, intentID
	return nil
}

// Outcome says what applying a provider's report did to the payment.
type Outcome int

// Outcomes of ApplyIntent.
const (
	Unchanged Outcome = iota
	BecamePaid
	BecameFailed
	WasCanceled
)

// ApplyIntent moves the payment forward according to the provider's intent for order orderID.
// Transitions are forward-only: a Paid payment ignores later failures, so duplicated and
// reordered reports are harmless. A succeeded intent whose order, amount or currency differ from
// ours is refused with ErrOrderMismatch or ErrAmountMismatch and changes nothing.
func (p *Payment) ApplyIntent(in Intent, orderID string, now time.Time) (Outcome, error) {
	if p.method != MethodCard {
		return Unchanged, ErrNotCard
	}
	// With no intent attached, no report is ours: an empty in.ID must not match the empty intentID.
	if p.intentID == "" || in.ID != p.intentID || in.OrderID != orderID {
		return Unchanged, ErrOrderMismatch
	}
	switch in.Status {
	case IntentSucceeded:
		if in.Amount != p.amount.Minor() || !strings.EqualFold(in.Currency, p.amount.Currency().Code()) {
			return Unchanged, ErrAmountMismatch
		}
		if p.status == StatusPaid || p.status == StatusRefunded {
			return Unchanged, nil
		}
		p.status, p.paidAt = StatusPaid, now
		p.failureCode, p.failureMessage = "", ""
		return BecamePaid, nil
	case IntentCanceled:
		if p.status == StatusPaid || p.status == StatusRefunded {
			return Unchanged, nil
		}
		return WasCanceled, nil
	case IntentRequiresPaymentMethod:
		if in.LastErrorCode == "" || p.status == StatusPaid || p.status == StatusRefunded {
			return Unchanged, nil
		}
		if p.status == StatusFailed && p.failureCode == in.LastErrorCode && p.failureMessage == in.LastErrorMessage {
			return Unchanged, nil
		}
		p.status, p.failureCode, p.failureMessage = StatusFailed, in.LastErrorCode, in.LastErrorMessage
		return BecameFailed, nil
	}
	return Unchanged, nil
}

// CollectCash marks a cash-on-delivery payment as collected. Collecting twice changes nothing.
func (p *Payment) CollectCash(now time.Time) (Outcome, error) {
	if p.method != MethodCash {
		return Unchanged, ErrNotCash
	}
	if p.status != StatusPending {
		return Unchanged, nil
	}
	p.status, p.paidAt = StatusPaid, now
	return BecamePaid, nil
}

// MarkRefunded records that the whole payment went back to the customer. Only a Paid payment can
// be refunded: money never received cannot go back (and Refunded counts as "was paid").
func (p *Payment) MarkRefunded() {
	if p.status == StatusPaid {
		p.status = StatusRefunded
	}
}

// ID returns the payment id; it doubles as the provider idempotency key for the intent.
func (p *Payment) ID() string { return p.id }

// Method returns how the order is paid.
func (p *Payment) Method() Method { return p.method }

// Provider returns the provider's name ("stripe", "sandbox", "cash").
func (p *Payment) Provider() string { return p.provider }

// IntentID returns the provider's intent id, or "" for cash.
func (p *Payment) IntentID() string { return p.intentID }

// Amount returns what the payment collects.
func (p *Payment) Amount() money.Money { return p.amount }

// Status returns the payment status.
func (p *Payment) Status() Status { return p.status }

// FailureCode returns the provider's failure code of the last failed attempt, or "".
func (p *Payment) FailureCode() string { return p.failureCode }

// FailureMessage returns the provider's failure message of the last failed attempt, or "".
func (p *Payment) FailureMessage() string { return p.failureMessage }

// PaidAt returns when the payment became Paid, or the zero time.
func (p *Payment) PaidAt() time.Time { return p.paidAt }

// IsPaid reports whether the money was received (and not refunded in full).
func (p *Payment) IsPaid() bool { return p.status == StatusPaid }
