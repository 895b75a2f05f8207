package sandbox

import (
	"strings"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// intent is the sandbox's state of one payment intent, read from and written back to the IntentStore.
type intent struct {
	id, clientSecret   string
	paymentID, orderID string
	amount             int64
	currency           string // lower case, as Stripe writes it
	status             payment.IntentStatus
	created            time.Time
	chargeID           string       // set once a card succeeded
	lastError          *cardFailure // the last failed attempt, cleared on success
	refunded           int64
	refunds            map[string]refund // by the caller's RefundID
}

// refund is one refund made on an intent.
type refund struct {
	id        string
	requested int64 // what was asked, 0 for "all that is left"
	amount    int64
}

func (in *intent) view() payment.Intent {
	v := payment.Intent{ID: in.id, ClientSecret: in.clientSecret, Amount: in.amount, Currency: in.currency,
		Status: in.status, OrderID: in.orderID, AmountRefunded: in.refunded}
	if in.lastError != nil {
		v.LastErrorCode, v.LastErrorMessage = in.lastError.reason, in.lastError.message
	}
	return v
}

// matches reports whether req repeats the request that created the intent.
func (in *intent) matches(req app.IntentRequest) bool {
	return in.orderID == req.OrderID && in.amount == req.Amount.Minor() &&
		in.currency == strings.ToLower(req.Amount.Currency().Code())
}

// refundable returns how much req refunds, or why it cannot.
func (in *intent) refundable(req app.RefundRequest) (int64, error) {
	if in.status != payment.IntentSucceeded {
		return 0, app.ErrProviderRejected.WithMessage("charge_not_refundable: a %s payment intent has no charge to refund", in.status)
	}
	left := in.amount - in.refunded
	if req.Amount.IsZero() {
		if left == 0 {
			return 0, app.ErrProviderRejected.WithMessage("charge_already_refunded: the charge has been refunded in full")
		}
		return left, nil
	}
	if !strings.EqualFold(req.Amount.Currency().Code(), in.currency) {
		return 0, app.ErrProviderRejected.WithMessage("the refund's currency differs from the charge's %s", in.currency)
	}
	if req.Amount.Minor() > left {
		return 0, app.ErrProviderRejected.WithMessage("amount_too_large: the refund of %d exceeds the %d left on the charge", req.Amount.Minor(), left)
	}
	return req.Amount.Minor(), nil
}

func (r refund) matches(req app.RefundRequest) bool { return r.requested == req.Amount.Minor() }

func (r refund) result() app.RefundResult {
	return app.RefundResult{ID: r.id, Status: "succeeded", Amount: r.amount}
}
