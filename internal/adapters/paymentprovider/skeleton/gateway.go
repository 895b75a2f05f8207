// Package skeleton owns the smallest whole payment provider: an in-memory gateway (intents,
// idempotent by payment id; cancels; refunds, idempotent by refund id and never beyond the amount
// paid), a webhook verifier that checks a shared token and reads a batch of events per delivery,
// and its Registration. Only its own test registers it: it measures what a second provider costs
// outside its package (docs/extending.md) and shows the registry and the configuration take a
// provider they were never told of.
package skeleton

import (
	"context"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ProviderName is the name the skeleton reports as its provider.
const ProviderName = "skeleton"

// Gateway is the app.PaymentGateway of the skeleton, in this process's memory.
type Gateway struct {
	mu          sync.Mutex
	intents     map[string]*intent // by intent id
	byPaymentID map[string]string  // payment id → intent id
}

var _ app.PaymentGateway = (*Gateway)(nil)

// intent is an intent with what makes its create and its refunds idempotent.
type intent struct {
	payment.Intent
	paymentID string
	refunds   map[string]app.RefundResult // by refund id
}

// New returns a gateway with no intents.
func New() *Gateway {
	return &Gateway{intents: map[string]*intent{}, byPaymentID: map[string]string{}}
}

// Provider returns "skeleton".
func (g *Gateway) Provider() string { return ProviderName }

// CreateIntent creates an intent awaiting payment; the same payment id returns the intent created
// first, and refuses different parameters.
func (g *Gateway) CreateIntent(_ context.Context, req app.IntentRequest) (payment.Intent, error) {
	if req.PaymentID == "" || req.OrderID == "" || req.Amount.Minor() <= 0 {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("an intent needs a payment id, an order id and a positive amount")
	}
	currency := strings.ToLower(req.Amount.Currency().Code())
	g.mu.Lock()
	defer g.mu.Unlock()
	if id, ok := g.byPaymentID[req.PaymentID]; ok {
		in := g.intents[id]
		if in.Amount != req.Amount.Minor() || in.Currency != currency || in.OrderID != req.OrderID {
			return payment.Intent{}, app.ErrProviderRejected.WithMessage("payment %s already has an intent for another amount or order", req.PaymentID)
		}
		return in.Intent, nil
	}
	in := &intent{paymentID: req.PaymentID, refunds: map[string]app.RefundResult{}, Intent: payment.Intent{
		ID: "skel_" + uuid.NewString(), ClientSecret: "skel_secret_" + uuid.NewString(), Amount: req.Amount.Minor(),
		Currency: currency, Status: payment.IntentRequiresPaymentMethod, OrderID: req.OrderID}}
	g.intents[in.ID], g.byPaymentID[req.PaymentID] = in, in.ID
	return in.Intent, nil
}

// GetIntent returns the intent as it is now.
func (g *Gateway) GetIntent(_ context.Context, intentID string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.intent(intentID)
	if err != nil {
		return payment.Intent{}, err
	}
	return in.Intent, nil
}

// Pay makes an intent awaiting payment succeed, as a customer paying it at the provider would.
func (g *Gateway) Pay(_ context.Context, intentID string) (payment.Intent, error) {
	return g.move(intentID, payment.IntentSucceeded)
}

// CancelIntent cancels an intent that has neither succeeded nor been canceled.
func (g *Gateway) CancelIntent(_ context.Context, intentID string) (payment.Intent, error) {
	return g.move(intentID, payment.IntentCanceled)
}

// move takes an intent awaiting payment to status.
func (g *Gateway) move(intentID string, status payment.IntentStatus) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.intent(intentID)
	if err != nil {
		return payment.Intent{}, err
	}
	if in.Status != payment.IntentRequiresPaymentMethod {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("intent %s is %s", intentID, in.Status)
	}
	in.Status = status
	return in.Intent, nil
}

// Refund returns req.Amount (all that is left when zero) of a succeeded intent; the same refund id
// returns the refund made first.
func (g *Gateway) Refund(_ context.Context, req app.RefundRequest) (app.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, err := g.intent(req.IntentID)
	if err != nil {
		return app.RefundResult{}, err
	}
	if done, ok := in.refunds[req.RefundID]; ok {
		return done, nil
	}
	left := in.Amount - in.AmountRefunded
	amount := req.Amount.Minor()
	if amount == 0 {
		amount = left
	}
	switch {
	case in.Status != payment.IntentSucceeded:
		return app.RefundResult{}, app.ErrProviderRejected.WithMessage("intent %s is %s, not paid", in.ID, in.Status)
	case amount <= 0 || amount > left:
		return app.RefundResult{}, app.ErrProviderRejected.WithMessage("intent %s has %d left to refund", in.ID, left)
	}
	in.AmountRefunded += amount
	in.refunds[req.RefundID] = app.RefundResult{ID: "skel_re_" + uuid.NewString(), Status: "succeeded", Amount: amount}
	return in.refunds[req.RefundID], nil
}

// intent returns the intent intentID; the caller holds g.mu.
func (g *Gateway) intent(intentID string) (*intent, error) {
	in, ok := g.intents[intentID]
	if !ok {
		return nil, app.ErrIntentNotFound.WithMessage("no intent %s", intentID)
	}
	return in, nil
}
