package app

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
