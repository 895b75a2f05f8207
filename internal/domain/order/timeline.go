package order

import "time"

// ChangeType names what happened to an order. The application maps these onto integration-event
// topics, so a new type here is a new fact the rest of the company can learn.
type ChangeType string

// Change types.
const (
	ChangePlaced               ChangeType = "order.placed"
	ChangeConfirmed            ChangeType = "order.confirmed"
	ChangePaymentSucceeded     ChangeType = "payment.succeeded"
	ChangePaymentFailed        ChangeType = "payment.failed"
	ChangeCancelled            ChangeType = "order.cancelled"
	ChangeShipped              ChangeType = "order.shipped"
	ChangeDelivered            ChangeType = "order.delivered"
	ChangeRefundRequested      ChangeType = "refund.requested"
	ChangeRefundFailed         ChangeType = "refund.failed"
	ChangeRefunded             ChangeType = "refund.succeeded"
	ChangeFullyRefunded        ChangeType = "order.refunded"
	ChangeDisputed             ChangeType = "dispute.updated"
	ChangeFulfillmentRequested ChangeType = "fulfillment.requested"
)

// Cause says who or what made a change: "customer u1", "webhook evt_…", "admin a1", "reconciler".
type Cause string

// CauseCustomer is a change made by the customer with id.
func CauseCustomer(id string) Cause { return Cause("customer " + id) }

// CauseAdmin is a change made by the admin with id.
func CauseAdmin(id string) Cause { return Cause("admin " + id) }

// CauseWebhook is a change made by the provider event with id.
func CauseWebhook(eventID string) Cause { return Cause("webhook " + eventID) }

// CauseClientConfirm is the client's PATCH /paid after it was verified with the provider.
func CauseClientConfirm(userID string) Cause { return Cause("confirm by " + userID) }

// CauseReconciler is the background reconciler.
const CauseReconciler Cause = "reconciler"

// CauseFulfillment is the fulfillment consumer reacting to an integration event.
const CauseFulfillment Cause = "fulfillment consumer"

// Change is one entry of the order's timeline.
type Change struct {
	At    time.Time
	Type  ChangeType
	From  string
	To    string
	Cause Cause
}
