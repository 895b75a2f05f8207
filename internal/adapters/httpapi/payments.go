package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/domain/payment"
)

// webhook hands the raw body and the headers of a delivery to POST /webhooks/{provider} to the
// app, which verifies them with that provider's verifier before it trusts a byte and records the
// events in the inbox; the answer does not wait for the processing (which may call the provider),
// as Stripe asks. A provider not enabled answers 404, signature faults 400; trouble on our side
// (the inbox could not record) answers 5xx so the provider retries.
func (s *Server) webhook(c *gin.Context) {
	if err := s.app.Webhooks.Handle(c.Request.Context(), c.Param("provider"), body(c), c.Request.Header); err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, gin.H{"received": true})
}

// sandboxConfirmRequest is what stripe.confirmCardPayment would send to Stripe. The card number
// is passed on and dropped; it is never logged or stored.
type sandboxConfirmRequest struct {
	ClientSecret string `json:"clientSecret"`
	CardNumber   string `json:"cardNumber"`
}

// confirmResultJSON has the shape of stripe.js's confirmCardPayment result.
type confirmResultJSON struct {
	PaymentIntent intentJSON     `json:"paymentIntent"`
	Error         *cardErrorJSON `json:"error"`
}

type intentJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type cardErrorJSON struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// sandboxConfirm pays a sandbox intent with a test card. A declined card is a result (200 with
// error set), as in stripe.js; a wrong client secret or an unknown card is a problem.
func (s *Server) sandboxConfirm(c *gin.Context) {
	var req sandboxConfirmRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	in, err := s.sandbox.Confirm(c.Request.Context(), c.Param("id"), req.ClientSecret, req.CardNumber)
	if err != nil {
		s.fail(c, err)
		return
	}
	result := confirmResultJSON{PaymentIntent: intentJSON{ID: in.ID, Status: string(in.Status)}}
	if in.Status == payment.IntentRequiresPaymentMethod && in.LastErrorCode != "" {
		result.Error = &cardErrorJSON{Type: "card_error", Code: in.LastErrorCode, Message: in.LastErrorMessage}
	}
	s.writeJSON(c, http.StatusOK, result)
}
