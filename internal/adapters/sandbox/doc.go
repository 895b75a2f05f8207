// Package sandbox owns the offline stand-in for Stripe that the service uses when no Stripe key is
// configured: a stateful app.PaymentGateway whose intents look like Stripe's (pi_… ids,
// pi_…_secret_… client secrets, Stripe's statuses and refund rules), a Confirm that plays
// stripe.confirmCardPayment with Stripe's test cards, and a Delivery that signs Stripe-shaped
// webhook events with the webhook secret (Stripe's t=…,v1=… scheme) and POSTs them to the
// service's own /webhooks/stripe, where the same verifier as for Stripe checks them.
//
// The sandbox accepts only test card numbers, never stores or logs one, and never sees a real card.
// Intents live in memory: after a restart the sandbox no longer knows intents created before it,
// so reading one answers app.ErrIntentNotFound and such orders stay unpaid (the reconciler cancels
// them after their TTL). That is acceptable for a development stand-in and must not be relied on
// for anything else.
package sandbox
