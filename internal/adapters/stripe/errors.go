package stripe

import (
	"errors"
	"fmt"
	"net/http"

	stripeapi "github.com/stripe/stripe-go/v76"

	"github.com/wolfix/orders/internal/app"
)

// apiError is what this package keeps of a Stripe API error. It deliberately drops the rest of
// *stripe.Error, whose Error() renders the whole body, client secrets of embedded intents included.
type apiError struct {
	op          string
	status      int
	errType     string
	code        string
	declineCode string
	message     string
	requestID   string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("stripe: %s: status %d, %s", e.op, e.status, e.errType)
	if e.code != "" {
		s += " " + e.code
	}
	if e.declineCode != "" {
		s += " (" + e.declineCode + ")"
	}
	if e.message != "" {
		s += ": " + e.message
	}
	if e.requestID != "" {
		s += " [" + e.requestID + "]"
	}
	return s
}

// mapError translates a stripe-go error into the port's faults:
//   - no answer (connection refused, timeout, cancelled, unreadable answer), 409, 429 and 5xx:
//     ErrProviderUnavailable, so the caller may try again later;
//   - resource_missing: ErrIntentNotFound;
//   - card errors: ErrProviderRejected whose message names the card's code;
//   - anything else (invalid request, authentication, permission, idempotency): ErrProviderRejected.
func mapError(op string, err error) error {
	var se *stripeapi.Error
	if !errors.As(err, &se) {
		return app.ErrProviderUnavailable.Wrap(fmt.Errorf("stripe: %s: %w", op, err))
	}
	ae := &apiError{op: op, status: se.HTTPStatusCode, errType: string(se.Type), code: string(se.Code),
		declineCode: string(se.DeclineCode), message: Redact(se.Msg), requestID: se.RequestID}
	switch {
	case se.Code == stripeapi.ErrorCodeResourceMissing:
		return app.ErrIntentNotFound.Wrap(ae)
	case isRetryable(se):
		return app.ErrProviderUnavailable.Wrap(ae)
	case se.Type == stripeapi.ErrorTypeCard:
		return app.ErrProviderRejected.WithMessage("the card was refused: %s", cardCode(string(se.Code), string(se.DeclineCode))).Wrap(ae)
	}
	return app.ErrProviderRejected.Wrap(ae)
}

func isRetryable(se *stripeapi.Error) bool {
	return se.Type == stripeapi.ErrorTypeAPI ||
		se.HTTPStatusCode == http.StatusConflict ||
		se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode >= http.StatusInternalServerError
}

// cardCode picks the code the service shows for a card failure. Stripe reports most declines as
// code card_declined with the reason in decline_code (insufficient_funds, lost_card, …); the
// specific reason is more useful, except Stripe's catch-all generic_decline.
func cardCode(code, declineCode string) string {
	if code == string(stripeapi.ErrorCodeCardDeclined) && declineCode != "" &&
		declineCode != string(stripeapi.DeclineCodeGenericDecline) {
		return declineCode
	}
	return code
}
