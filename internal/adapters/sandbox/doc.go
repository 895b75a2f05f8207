// Package sandbox owns the offline stand-in for Stripe that the service uses when no Stripe key is
// configured: a stateful app.PaymentGateway whose intents look like Stripe's (pi_… ids,
// pi_…_secret_… client secrets, Stripe's statuses and refund rules), a Confirm that plays
// stripe.confirmCardPayment with Stripe's test cards, and a Delivery that signs Stripe-shaped
// webhook events with the webhook secret (Stripe's t=…,v1=… scheme) and POSTs them to the
// service's own /webhooks/sandbox, where the same kind of verifier as for Stripe checks them. A small pool
// of delivery workers (DeliveryConfig.Workers) POSTs concurrently; every event carries its payment
// intent's id, and all events of one intent go through the same worker, so they arrive in the
// order the sandbox emitted them.
//
// The sandbox accepts only test card numbers, never stores or logs one, and never sees a real card.
// Intents live in an IntentStore: the service gives it the one in its database
// (sqlstore.SandboxIntents), so intents survive restarts and every replica can read, confirm,
// cancel or refund an intent another replica created; each replica's Delivery still POSTs the
// events of the changes it made to its own webhook endpoint. Without a store they live in memory,
// for one process (tests, benchmarks). Events waiting in a Delivery are never persisted; a restart
// loses them, and the service learns those outcomes from PATCH /paid or the reconciler, which
// re-read the intent.
package sandbox
