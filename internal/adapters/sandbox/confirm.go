package sandbox

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strings"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Errors of Confirm, answered to the client that confirms.
var (
	ErrUnknownTestCard = fault.Invalid("sandbox_unknown_test_card",
		"the sandbox accepts only the test cards 4242 4242 4242 4242, 4000 0000 0000 0002, 4000 0000 0000 9995 and 4000 0000 0000 0069")
	ErrClientSecret   = fault.Invalid("sandbox_client_secret_invalid", "the client secret does not belong to this payment intent")
	ErrNotConfirmable = fault.Conflict("payment_intent_unexpected_state", "the payment intent can no longer be confirmed")
)

// cardFailure is how a test card fails, in Stripe's terms. reason is the code the service shows:
// the decline code when it is more specific than card_declined, as the Stripe adapter reports it.
type cardFailure struct {
	code, declineCode, reason, message string
}

// testCards are Stripe's test cards the sandbox knows; a nil failure succeeds.
var testCards = map[string]*cardFailure{
	"4242424242424242": nil,
	"4000000000000002": {code: "card_declined", declineCode: "generic_decline", reason: "card_declined", message: "Your card was declined."},
	"4000000000009995": {code: "card_declined", declineCode: "insufficient_funds", reason: "insufficient_funds", message: "Your card has insufficient funds."},
	"4000000000000069": {code: "expired_card", declineCode: "expired_card", reason: "expired_card", message: "Your card has expired."},
}

// Confirm plays stripe.confirmCardPayment: the customer pays the intent with a test card. A
// declined card is an outcome, not an error, as on Stripe: the intent returns to
// requires_payment_method with the failure in LastErrorCode/LastErrorMessage, and may still be
// confirmed with another card. Either way the matching event (payment_intent.succeeded or
// payment_intent.payment_failed) is emitted. Errors: app.ErrIntentNotFound, ErrClientSecret,
// ErrUnknownTestCard (any number that is not one of the test cards; it is neither kept nor
// logged), ErrNotConfirmable (the intent succeeded or was canceled).
func (g *Gateway) Confirm(ctx context.Context, intentID, clientSecret, cardNumber string) (payment.Intent, error) {
	if err := usable(ctx); err != nil {
		return payment.Intent{}, err
	}
	failure, known := testCards[normalizeCard(cardNumber)]
	unlock := g.lockEmitting(intentID)
	defer unlock()
	in, err := g.update(ctx, intentID, func(in *intent) error {
		if subtle.ConstantTimeCompare([]byte(clientSecret), []byte(in.clientSecret)) != 1 {
			return ErrClientSecret
		}
		if !known {
			return ErrUnknownTestCard
		}
		if in.status != payment.IntentRequiresPaymentMethod {
			return ErrNotConfirmable.WithMessage("a %s payment intent can no longer be confirmed", in.status)
		}
		if failure != nil {
			in.lastError = failure
		} else {
			in.status, in.lastError, in.chargeID = payment.IntentSucceeded, nil, newID("ch")
		}
		return nil
	})
	if err != nil {
		return payment.Intent{}, err
	}
	if failure != nil {
		g.log.Info("sandbox payment failed", slog.String("intent_id", in.id), slog.String("code", failure.reason))
		g.emit(payment.EventIntentPaymentFailed, in.id, in.eventObject())
		return in.view(), nil
	}
	g.log.Info("sandbox payment succeeded", slog.String("intent_id", in.id))
	g.emit(payment.EventIntentSucceeded, in.id, in.eventObject())
	return in.view(), nil
}

// normalizeCard drops the spaces and dashes people type in card numbers.
func normalizeCard(number string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(number)
}
