package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Gateway is an in-memory payment provider that keeps its intents and refunds as Stripe does
// (ids pi_…, lower-case currencies, idempotent by payment and refund id, no refund beyond the
// captured amount). Tests script it:
// Set changes what it reports for an intent (a customer paying, a decline, a tampered amount),
// and the Fail… hooks make its calls fail.
type Gateway struct {
	name string

	mu         sync.Mutex
	intents    map[string]payment.Intent
	byPayment  map[string]app.IntentRequest // the request each payment id created, by intent id
	intentOf   map[string]string            // intent id by payment id
	refunds    map[string]app.RefundResult  // by refund id
	cancelled  []string
	createErr  error
	getErr     error
	refundErr  error
	intentSeq  int
	refundsSeq int
}

// NewGateway returns a provider named name with no intents.
func NewGateway(name string) *Gateway {
	return &Gateway{name: name, intents: map[string]payment.Intent{}, byPayment: map[string]app.IntentRequest{},
		intentOf: map[string]string{}, refunds: map[string]app.RefundResult{}}
}

// Provider names the provider.
func (g *Gateway) Provider() string { return g.name }

// CreateIntent opens an intent awaiting a payment method; a repeated payment id returns its
// intent, and a different request under it is rejected.
func (g *Gateway) CreateIntent(_ context.Context, req app.IntentRequest) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.createErr != nil {
		return payment.Intent{}, g.createErr
	}
	if id, ok := g.intentOf[req.PaymentID]; ok {
		if first := g.byPayment[id]; first.Amount != req.Amount || first.OrderID != req.OrderID {
			return payment.Intent{}, app.ErrProviderRejected.WithMessage("payment %s was opened for another request", req.PaymentID)
		}
		return g.intents[id], nil
	}
	g.intentSeq++
	id := fmt.Sprintf("pi_%s%d", g.name, g.intentSeq)
	in := payment.Intent{ID: id, ClientSecret: id + "_secret_memory", Amount: req.Amount.Minor(),
		Currency: strings.ToLower(req.Amount.Currency().Code()), Status: payment.IntentRequiresPaymentMethod, OrderID: req.OrderID}
	g.intents[id], g.byPayment[id], g.intentOf[req.PaymentID] = in, req, id
	return in, nil
}

// GetIntent reports the intent as it stands.
func (g *Gateway) GetIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.getErr != nil {
		return payment.Intent{}, g.getErr
	}
	return g.intent(id)
}

// CancelIntent cancels an intent that neither succeeded nor was cancelled already.
func (g *Gateway) CancelIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.intent(id)
	if err != nil {
		return payment.Intent{}, err
	}
	if in.Status == payment.IntentSucceeded || in.Status == payment.IntentCanceled {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("intent %s is %s", id, in.Status)
	}
	in.Status = payment.IntentCanceled
	g.intents[id] = in
	g.cancelled = append(g.cancelled, id)
	return in, nil
}

// Refund returns req.Amount (all that is left when zero) of a succeeded intent, once per refund id.
func (g *Gateway) Refund(_ context.Context, req app.RefundRequest) (app.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refundErr != nil {
		return app.RefundResult{}, g.refundErr
	}
	if r, ok := g.refunds[req.RefundID]; ok {
		return r, nil
	}
	in, err := g.intent(req.IntentID)
	if err != nil {
		return app.RefundResult{}, err
	}
	amount, left := req.Amount.Minor(), in.Amount-in.AmountRefunded
	if amount == 0 {
		amount = left
	}
	if in.Status != payment.IntentSucceeded || amount <= 0 || amount > left {
		return app.RefundResult{}, app.ErrProviderRejected.WithMessage("intent %s cannot refund %d", in.ID, amount)
	}
	in.AmountRefunded += amount
	g.intents[in.ID] = in
	g.refundsSeq++
	r := app.RefundResult{ID: fmt.Sprintf("re_%s%d", g.name, g.refundsSeq), Status: "succeeded", Amount: amount}
	g.refunds[req.RefundID] = r
	return r, nil
}

func (g *Gateway) intent(id string) (payment.Intent, error) {
	in, ok := g.intents[id]
	if !ok {
		return payment.Intent{}, app.ErrIntentNotFound
	}
	return in, nil
}

// Set changes what the provider reports for intent id.
func (g *Gateway) Set(id string, change func(in *payment.Intent)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.intents[id]
	change(&in)
	g.intents[id] = in
}

// FailCreate makes CreateIntent fail with err until it is called again with nil.
func (g *Gateway) FailCreate(err error) { g.setFailure(&g.createErr, err) }

// FailGet makes GetIntent fail with err until it is called again with nil.
func (g *Gateway) FailGet(err error) { g.setFailure(&g.getErr, err) }

// FailRefund makes Refund fail with err until it is called again with nil.
func (g *Gateway) FailRefund(err error) { g.setFailure(&g.refundErr, err) }

func (g *Gateway) setFailure(hook *error, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	*hook = err
}

// Created is how many intents the provider opened.
func (g *Gateway) Created() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.intents)
}

// Cancelled are the intents the provider cancelled, in order.
func (g *Gateway) Cancelled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.cancelled)
}

// Refunds is how many refunds the provider made.
func (g *Gateway) Refunds() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.refunds)
}
