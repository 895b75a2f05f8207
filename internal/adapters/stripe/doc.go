// Package stripe owns the service's link to Stripe: the app.PaymentGateway port on stripe-go v76
// (PaymentIntents and refunds, with a client of its own rather than the global stripe.Key), the
// translation of Stripe's errors into the port's faults, and the app.WebhookVerifier that checks
// Stripe's signed webhooks.
//
// API version. stripe-go v76 pins every request to Stripe API version 2023-10-16 (Version). Webhook
// events, however, are rendered with the version of the webhook endpoint, which the Stripe account
// owner may change independently. The verifier accepts events of any version, on purpose: after the
// signature check it reads only the event's id, type and api_version, the id of the object or of
// its payment_intent, and for disputes their status, reason, amount and currency — fields whose
// shape has not changed across Stripe API versions. The service does not act on intent or charge
// bodies: FinalizePayment and the refund sync re-read the intent through this gateway, which speaks
// 2023-10-16. Rejecting other versions would only turn a dashboard setting into lost payments; the
// version an event came with is kept in payment.Event.APIVersion for diagnosis.
//
// Retries. stripe-go retries (Config.MaxRetries, with its own exponential backoff and jitter)
// connection errors, 409 conflicts, 429 lock timeouts, 503s, other 5xx on non-POST requests, and
// whatever Stripe marks with Stripe-Should-Retry; POSTs are safe to retry because every one carries
// an Idempotency-Key (the payment id for intents, the refund id for refunds). A rate-limited 429 is
// not retried (retrying adds to the contention); it is reported as ErrProviderUnavailable so the
// caller can back off. Each attempt is bounded by Config.AttemptTimeout and the whole call, retries
// included, by Config.CallTimeout and the caller's context.
//
// Logging. stripe-go's own log lines go to slog with every client secret, API key and webhook secret
// redacted; its debug lines, which carry whole response bodies (client secrets included), are dropped.
// Errors returned by this package never embed Stripe's raw error body, which may contain a
// PaymentIntent with its client secret.
package stripe
