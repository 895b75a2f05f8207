package payment

// IntentStatus is a provider's payment-intent status, in Stripe's vocabulary.
type IntentStatus string

// Intent statuses (Stripe's names; other providers map onto them).
const (
	IntentRequiresPaymentMethod IntentStatus = "requires_payment_method"
	IntentRequiresConfirmation  IntentStatus = "requires_confirmation"
	IntentRequiresAction        IntentStatus = "requires_action"
	IntentProcessing            IntentStatus = "processing"
	IntentRequiresCapture       IntentStatus = "requires_capture"
	IntentSucceeded             IntentStatus = "succeeded"
	IntentCanceled              IntentStatus = "canceled"
)

// Intent is what a provider says about one payment intent. It is input to ApplyIntent, which
// decides whether to believe it.
type Intent struct {
	ID           string
	ClientSecret string
	// Amount is in the currency's minor units.
	Amount   int64
	Currency string
	Status   IntentStatus
	// OrderID is the order id the intent carries in its metadata.
	OrderID          string
	LastErrorCode    string
	LastErrorMessage string
	// AmountRefunded is what the provider has refunded of this intent in total, in minor units.
	AmountRefunded int64
}

// EventType is the kind of a provider event.
type EventType string

// Provider event types we act on (Stripe's names).
const (
	EventIntentSucceeded     EventType = "payment_intent.succeeded"
	EventIntentPaymentFailed EventType = "payment_intent.payment_failed"
	EventIntentCanceled      EventType = "payment_intent.canceled"
	EventChargeRefunded      EventType = "charge.refunded"
	EventRefundUpdated       EventType = "refund.updated"
	EventDisputeCreated      EventType = "charge.dispute.created"
	EventDisputeClosed       EventType = "charge.dispute.closed"
)

// Event is a verified provider event, reduced to what the service needs.
type Event struct {
	// ID is the provider's event id (evt_…), the key of the webhook inbox.
	ID   string
	Type EventType
	// Provider names the payment provider whose webhook route delivered the event ("" in events
	// recorded before providers were named: the default provider's).
	Provider string
	// IntentID is the payment intent the event concerns, when it concerns one.
	IntentID string
	// APIVersion is the provider API version the event was rendered with.
	APIVersion string
	// Payload is the raw verified body, kept for replay.
	Payload []byte
	// Dispute carries the dispute's state for charge.dispute.* events.
	Dispute *DisputeReport
}

// DisputeReport is what a dispute event says about a chargeback. Disputes have no API re-read in
// the port, so this comes from the signed event itself.
type DisputeReport struct {
	Status string
	Reason string
	// Amount is in minor units of Currency.
	Amount   int64
	Currency string
}
