package smtpnotify

import (
	"fmt"
	"strings"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
)

// compose writes the subject and plain-text body of one kind of message.
func compose(kind app.NotificationKind, o *order.Order) (subject, body string, err error) {
	greeting := "Hello " + o.Recipient().FirstName + ",\n\n"
	switch kind {
	case app.NotifyOrderConfirmed:
		return "Your Wolfix order " + o.Number(), greeting + orderSummary(o), nil
	case app.NotifyPaymentFailed:
		reason := o.Payment().FailureMessage()
		if reason == "" {
			reason = "the payment was not completed"
		}
		return "Payment for your Wolfix order " + o.Number() + " failed",
			greeting + fmt.Sprintf("We could not take the payment of %s: %s\nYou can try again with another card.\n",
				o.Total(), reason), nil
	case app.NotifyOrderRefunded:
		refunded, err := o.RefundedAmount()
		if err != nil {
			return "", "", err
		}
		return "Refund for your Wolfix order " + o.Number(),
			greeting + fmt.Sprintf("We refunded %s of your order %s (total %s).\nRefunds usually reach your account within 5–10 business days.\n",
				refunded, o.Number(), o.Total()), nil
	}
	return "", "", fmt.Errorf("smtpnotify: no message for %q", kind)
}

func orderSummary(o *order.Order) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Thank you for your order %s.\n\n", o.Number())
	for _, it := range o.Items() {
		fmt.Fprintf(&b, "  %d × %s — %s each\n", it.Quantity, it.Title, it.UnitPrice)
	}
	fmt.Fprintf(&b, "  Delivery — %s\n\nTotal: %s\n", o.DeliveryFee(), o.Total())
	return b.String()
}
