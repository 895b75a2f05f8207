package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ErrUnknownProduct reports an order line naming a product that does not exist.
var ErrUnknownProduct = fault.Invalid("product_unknown", "an ordered product does not exist")

// Pricing is what the server adds to the items: the trading currency and the delivery fees.
type Pricing struct {
	Currency money.Currency
	Fees     map[order.DeliveryMethod]money.Money
}

// fee returns the delivery fee for method; unknown methods are rejected by the order itself.
func (p Pricing) fee(method order.DeliveryMethod) money.Money {
	if f, ok := p.Fees[method]; ok {
		return f
	}
	return money.Zero(p.Currency)
}

// PlaceOrder is a customer's checkout.
type PlaceOrder struct {
	Actor     Actor
	Lines     []LineRequest
	Recipient order.Recipient
	Delivery  order.Delivery
	Method    payment.Method
}

// LineRequest is one requested product and quantity.
type LineRequest struct {
	ProductID string
	Quantity  int64
}

// PlacedOrder is the result of a checkout. ClientSecret is set for card orders only; it goes to
// the customer's browser and nowhere else (never into logs).
type PlacedOrder struct {
	Order        *order.Order
	ClientSecret string
}

// PlaceOrderHandler runs checkout: price on the server, open a payment intent for card orders,
// then reserve stock and store the order and its events in one transaction.
type PlaceOrderHandler struct {
	store     UnitOfWork
	providers *Providers
	pricing   Pricing
	unpaid    UnpaidCap
	slots     *CheckoutSlots
	clock     Clock
	log       *slog.Logger
}

// NewPlaceOrderHandler builds the checkout use case.
func NewPlaceOrderHandler(store UnitOfWork, providers *Providers, pricing Pricing, clock Clock, log *slog.Logger) *PlaceOrderHandler {
	return &PlaceOrderHandler{store: store, providers: providers, pricing: pricing, clock: clock, log: log}
}

// CapUnpaid sets the cap on what one customer may hold in unpaid card orders; unset, none is kept.
func (h *PlaceOrderHandler) CapUnpaid(c UnpaidCap) *PlaceOrderHandler {
	h.unpaid = c
	return h
}

// TakeTurns makes card checkouts wait for one of slots for their database phases; unset, none
// waits.
func (h *PlaceOrderHandler) TakeTurns(slots *CheckoutSlots) *PlaceOrderHandler {
	h.slots = slots
	return h
}

// Handle places the order. No transaction is held open across the provider call: if reserving
// stock fails after the intent was created, the intent is cancelled and nothing stays reserved.
func (h *PlaceOrderHandler) Handle(ctx context.Context, cmd PlaceOrder) (PlacedOrder, error) {
	if err := cmd.Actor.Require(RoleCustomer); err != nil {
		return PlacedOrder{}, err
	}
	o, err := h.admit(ctx, cmd)
	if err != nil {
		return PlacedOrder{}, err
	}
	var secret string
	if cmd.Method == payment.MethodCard {
		if secret, err = h.openIntent(ctx, o, cmd.Recipient.Email); err != nil {
			return PlacedOrder{}, err
		}
	}
	placed := PlacedOrder{Order: o, ClientSecret: secret}
	if err := h.commit(ctx, cmd.Method, placed); err != nil {
		if !errors.Is(err, ErrIdempotencyClaimLost) { // else the retry that took over uses the intent
			h.releaseIntent(ctx, o)
		}
		return PlacedOrder{}, err
	}
	h.log.InfoContext(ctx, "order placed", "order_id", o.ID(), "number", o.Number(),
		"method", cmd.Method, "total", o.Total().String())
	return placed, nil
}

// inTurn runs a database phase of a checkout: a card checkout's in one of the checkout slots.
func (h *PlaceOrderHandler) inTurn(ctx context.Context, method payment.Method, phase func() error) error {
	if method != payment.MethodCard {
		return phase()
	}
	return h.slots.run(ctx, phase)
}

// admit prices the order and checks the customer's unpaid cap, before any intent is opened.
func (h *PlaceOrderHandler) admit(ctx context.Context, cmd PlaceOrder) (o *order.Order, err error) {
	err = h.inTurn(ctx, cmd.Method, func() error {
		if o, err = h.price(ctx, cmd); err != nil {
			return err
		}
		return h.unpaid.admit(ctx, h.store.Orders(), o)
	})
	return o, err
}

// commit stores the placed order in one transaction, with an Idempotency-Key's answer.
func (h *PlaceOrderHandler) commit(ctx context.Context, method payment.Method, placed PlacedOrder) error {
	return h.inTurn(ctx, method, func() error {
		return h.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
			answer(ctx, placed)
			return h.save(ctx, tx, placed.Order)
		})
	})
}

// price reads the products (without locks) and builds the order with server-computed totals. It
// refuses early what the stock cannot cover, so no intent is opened for an impossible order.
func (h *PlaceOrderHandler) price(ctx context.Context, cmd PlaceOrder) (*order.Order, error) {
	if len(cmd.Lines) == 0 {
		return nil, order.ErrNoItems
	}
	if len(cmd.Lines) > order.MaxLines {
		return nil, order.ErrTooManyItems
	}
	ids := make([]string, 0, len(cmd.Lines))
	for _, l := range cmd.Lines {
		ids = append(ids, l.ProductID)
	}
	products, err := h.store.Products().GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	lines := make([]order.Line, 0, len(cmd.Lines))
	for _, l := range cmd.Lines {
		p, ok := products[l.ProductID]
		if !ok {
			return nil, ErrUnknownProduct.WithMessage("product %q does not exist", l.ProductID)
		}
		lines = append(lines, order.Line{Product: p, Quantity: l.Quantity})
	}
	now := h.clock.Now()
	// With an Idempotency-Key, every run of the request names the order and payment alike, so a
	// retry that takes over a crashed run reuses its provider intent (keyed by the payment id).
	o, err := order.Place(order.PlaceParams{ID: idFor(ctx, "order"), Number: NewOrderNumber(now), CustomerID: cmd.Actor.UserID,
		PaymentID: idFor(ctx, "payment"), Lines: lines, Recipient: cmd.Recipient, Delivery: cmd.Delivery,
		DeliveryFee: h.pricing.fee(cmd.Delivery.Method), Method: cmd.Method, Now: now})
	if err != nil {
		return nil, err
	}
	return o, checkStock(lines)
}

func checkStock(lines []order.Line) error {
	for _, l := range lines {
		if l.Product.Stock() < l.Quantity {
			return catalog.ErrOutOfStock.WithMessage("only %d units of %q are left", l.Product.Stock(), l.Product.ID())
		}
	}
	return nil
}

func (h *PlaceOrderHandler) openIntent(ctx context.Context, o *order.Order, email string) (string, error) {
	gateway := h.providers.Default().Gateway // new orders go to the default provider
	intent, err := gateway.CreateIntent(ctx, IntentRequest{PaymentID: o.Payment().ID(), OrderID: o.ID(),
		Amount: o.Total(), ReceiptEmail: email, Description: "Wolfix order " + o.Number()})
	if err != nil {
		return "", err
	}
	if err := o.AttachIntent(gateway.Provider(), intent.ID); err != nil {
		return "", err
	}
	return intent.ClientSecret, nil
}

// save stores the order and its events, checks the unpaid cap again (serialized per customer),
// then reserves every line's stock, in one transaction. Reserving comes last so that a popular
// product's row stays locked only until the commit that follows (measured on Postgres: ~1050
// instead of ~450 orders/s on one hot product), all lines in one call, which takes them in
// product-id order, so concurrent orders never deadlock. On Postgres the cap's check and the
// reservation travel with the COMMIT, so they come after the order's inserts.
func (h *PlaceOrderHandler) save(ctx context.Context, tx Tx, o *order.Order) error {
	if err := tx.Orders().Add(ctx, o); err != nil {
		return err
	}
	if err := h.unpaid.admitInTx(ctx, tx.Orders(), o); err != nil {
		return err
	}
	return tx.Products().Reserve(ctx, stockLines(o)...)
}

func stockLines(o *order.Order) []StockLine {
	items := o.Items()
	lines := make([]StockLine, len(items))
	for i, it := range items {
		lines[i] = StockLine{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	return lines
}

// releaseIntent cancels the intent of an order that could not be stored. The customer never saw
// its client secret, so nothing can be charged on it; a failure here is only logged, and the
// provider expires the intent on its own.
func (h *PlaceOrderHandler) releaseIntent(ctx context.Context, o *order.Order) {
	id := o.Payment().IntentID()
	if id == "" {
		return
	}
	gateway, err := h.providers.Gateway(o.Payment().Provider())
	if err == nil {
		_, err = gateway.CancelIntent(context.WithoutCancel(ctx), id)
	}
	if err != nil {
		h.log.WarnContext(ctx, "could not cancel the intent of an order that was not stored",
			"order_id", o.ID(), "intent_id", id, "error", err)
	}
}
