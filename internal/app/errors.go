package app

import "github.com/wolfix/orders/internal/domain/fault"

// Errors the application and its ports report.
var (
	ErrProviderUnavailable = fault.Unavailable("payment_provider_unavailable", "the payment provider is unavailable; try again")
	ErrProviderRejected    = fault.Upstream("payment_provider_error", "the payment provider rejected the request")
	ErrIntentNotFound      = fault.NotFound("payment_intent_not_found", "payment intent not found")
	ErrProviderNotEnabled  = fault.NotFound("payment_provider_not_found", "no such payment provider is enabled")
	ErrWebhookSignature    = fault.Invalid("webhook_signature_invalid", "the webhook signature is missing, invalid or too old")
	ErrWebhookPayload      = fault.Invalid("webhook_payload_invalid", "the webhook payload cannot be read")
	ErrForbidden           = fault.Forbidden("forbidden", "your role does not allow this")
	ErrIdempotencyReused   = fault.Invalid("idempotency_key_reused", "this Idempotency-Key was used with another request body")
	ErrInboxEventNotFound  = fault.NotFound("webhook_event_not_found", "webhook event not found")
	ErrIdempotencyBusy     = fault.Conflict("idempotency_key_in_progress", "a request with this Idempotency-Key is still being processed")
)
