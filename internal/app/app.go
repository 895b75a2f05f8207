package app

import "log/slog"

// Application is every use case, as the driving adapters (HTTP, CLI, workers) see them.
type Application struct {
	Catalog     *CatalogHandler
	PlaceOrder  *PlaceOrderHandler
	ConfirmPaid *ConfirmPaidHandler
	Finalizer   *PaymentFinalizer
	Webhooks    *WebhookHandler
	Orders      *OrderQueries
	Refunds     *RefundHandler
	Cancel      *CancelHandler
	Fulfillment *FulfillmentHandler
	Reconciler  *Reconciler
	Seeder      *CatalogSeeder
}

// Dependencies is what the use cases need from outside.
type Dependencies struct {
	Store Store
	// Providers are the enabled payment providers; new orders go to the default.
	Providers  *Providers
	Pricing    Pricing
	Clock      Clock
	Reconciler ReconcilerConfig
	// Inbox tunes the workers that process recorded webhook events.
	Inbox InboxConfig
	// UnpaidCap bounds the stock one customer holds in unpaid card orders; zero caps nothing.
	UnpaidCap UnpaidCap
	// CheckoutSlots bounds the card checkouts using the database at once; nil bounds none.
	CheckoutSlots *CheckoutSlots
	Log           *slog.Logger
	// Observer is told what the use cases did (metrics); nil observes nothing.
	Observer Observer
}

// New assembles every use case over d, in the one order their dependencies allow. The use cases
// see the store through the unit of work, which writes their events and keeps Idempotency-Key
// answers in their transactions, and after each commit wakes the readers awaiting a change of the
// orders it touched (OrderQueries.Await).
func New(d Dependencies) *Application {
	changes := NewOrderChanges()
	uow := unitOfWork{Store: d.Store, changes: changes}
	refunds := NewRefundHandler(uow, d.Providers, d.Clock, d.Log, d.Observer)
	finalizer := NewPaymentFinalizer(uow, d.Providers, refunds, d.Clock, d.Log, d.Observer)
	cancel := NewCancelHandler(uow, d.Providers, finalizer, refunds, d.Clock, d.Log)
	return &Application{
		Catalog:     NewCatalogHandler(uow, d.Clock, d.Log),
		PlaceOrder:  NewPlaceOrderHandler(uow, d.Providers, d.Pricing, d.Clock, d.Log).CapUnpaid(d.UnpaidCap).TakeTurns(d.CheckoutSlots),
		ConfirmPaid: NewConfirmPaidHandler(uow, finalizer, d.Clock),
		Finalizer:   finalizer,
		Webhooks:    NewWebhookHandler(uow, d.Providers, finalizer, refunds, d.Clock, d.Log, d.Observer).WorkWith(d.Inbox),
		Orders:      NewOrderQueries(uow, changes),
		Refunds:     refunds,
		Cancel:      cancel,
		Fulfillment: NewFulfillmentHandler(uow, d.Clock),
		Reconciler:  NewReconciler(uow, finalizer, cancel, refunds, d.Clock, d.Reconciler, d.Log, d.Observer),
		Seeder:      NewCatalogSeeder(uow, d.Pricing, d.Clock, d.Log),
	}
}
