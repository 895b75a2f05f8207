package stripe

import (
	stripeapi "github.com/stripe/stripe-go/v76"

	"github.com/wolfix/orders/internal/domain/payment"
)

// toIntent reduces a PaymentIntent to what the service decides on. The order id comes from the
// intent's metadata, written by CreateIntent; FinalizePayment compares it with its own order. The
// refunded amount is known only when latest_charge was expanded (GetIntent does), else it is 0.
func toIntent(pi *stripeapi.PaymentIntent) payment.Intent {
	in := payment.Intent{
		ID:           pi.ID,
		ClientSecret: pi.ClientSecret,
		Amount:       pi.Amount,
		Currency:     string(pi.Currency),
		Status:       payment.IntentStatus(pi.Status),
		OrderID:      pi.Metadata[MetadataOrderID],
	}
	if pi.LatestCharge != nil {
		in.AmountRefunded = pi.LatestCharge.AmountRefunded
	}
	if e := pi.LastPaymentError; e != nil {
		in.LastErrorCode = cardCode(string(e.Code), string(e.DeclineCode))
		in.LastErrorMessage = e.Msg
	}
	return in
}
