package porttest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// GatewayFeatures say what the payment provider under test promises beyond the port, and relax
// the assertions a stateless mock cannot satisfy, each saying what the mock cannot show and why.
// The zero value asserts everything the port promises: a stateful provider (the sandbox, the
// in-memory gateway) runs the suite in full.
type GatewayFeatures struct {
	// StripeShapedIDs: intents have Stripe's shapes, ids pi_… and client secrets <id>_secret_…
	// (Stripe, and the sandbox that plays it); other providers' ids are only required non-empty.
	StripeShapedIDs bool
	// Fixtures: answers other than the create's echo of amount and currency are canned fixtures
	// (stripe-mock answers every retrieve with an intent of amount 1099, a cancel with status
	// requires_payment_method, and a client secret that belongs to another id), so reads are not
	// compared with what was written and state transitions are not checked.
	Fixtures bool
	// IgnoresIdempotencyKeys: the provider creates a new object for a repeated Idempotency-Key
	// (stripe-mock keeps no state to replay from), so idempotent creates and refunds are not checked.
	IgnoresIdempotencyKeys bool
	// OmitsMetadata: created intents do not echo metadata (stripe-mock returns empty metadata), so
	// the order id of a created intent is not checked.
	OmitsMetadata bool
	// AnyIDExists: the provider answers any well-formed id with a fixture instead of 404
	// resource_missing (stripe-mock), so unknown intents are not checked for ErrIntentNotFound.
	AnyIDExists bool
	// Pay makes an intent succeed as a customer paying it would. Nil skips the tests that need a
	// succeeded intent (a real provider needs a browser, stripe-mock a state it does not keep).
	Pay func(t *testing.T, in payment.Intent)
}

// RunGateway runs the payment gateway suite: create (with the payment id as idempotency key),
// retrieve, cancel, refund and the mapping of provider errors onto the port's faults;
// newGateway returns a fresh gateway for each subtest.
func RunGateway(t *testing.T, newGateway func(t *testing.T) app.PaymentGateway, opts GatewayFeatures) {
	s := gatewaySuite{newGateway: newGateway, opts: opts}
	t.Run("provider has a name", s.providerName)
	t.Run("create", s.create)
	t.Run("create is idempotent by payment id", s.idempotentCreate)
	t.Run("concurrent creates with one payment id make one intent", s.concurrentCreate)
	t.Run("create refuses another request under the same payment id", s.createConflict)
	t.Run("retrieve", s.retrieve)
	t.Run("cancel", s.cancel)
	t.Run("refund", s.refund)
	t.Run("refund is idempotent by refund id", s.idempotentRefund)
	t.Run("refund never exceeds the captured amount", s.overRefund)
	t.Run("refund of an unpaid intent is rejected", s.refundUnpaid)
	t.Run("unknown intent is not found", s.unknownIntent)
}

type gatewaySuite struct {
	newGateway func(t *testing.T) app.PaymentGateway
	opts       GatewayFeatures
}

func (s gatewaySuite) providerName(t *testing.T) {
	if got := s.newGateway(t).Provider(); got == "" {
		t.Fatal("Provider() is empty")
	}
}

func (s gatewaySuite) create(t *testing.T) {
	gw := s.newGateway(t)
	req := NewRequest(t, 4599)
	in := mustCreate(t, gw, req)
	if in.ID == "" || in.ClientSecret == "" {
		t.Errorf("ID = %q, ClientSecret empty: %v; want both set", in.ID, in.ClientSecret == "")
	}
	if s.opts.StripeShapedIDs {
		s.stripeShapes(t, in)
	}
	if in.Amount != 4599 || in.Currency != "usd" {
		t.Errorf("amount = %d %s; want 4599 usd", in.Amount, in.Currency)
	}
	if in.Status != payment.IntentRequiresPaymentMethod {
		t.Errorf("Status = %q; want %q", in.Status, payment.IntentRequiresPaymentMethod)
	}
	if !s.opts.OmitsMetadata && in.OrderID != req.OrderID {
		t.Errorf("OrderID = %q; want %q", in.OrderID, req.OrderID)
	}
}

// stripeShapes checks the shapes of a Stripe intent's id and client secret.
func (s gatewaySuite) stripeShapes(t *testing.T, in payment.Intent) {
	if !strings.HasPrefix(in.ID, "pi_") {
		t.Errorf("ID = %q; want a pi_… id", in.ID)
	}
	if !s.opts.Fixtures && !strings.HasPrefix(in.ClientSecret, in.ID+"_secret_") {
		t.Errorf("ClientSecret does not have the form %s_secret_…", in.ID)
	}
}

// needsIdempotencyKeys skips what a provider that ignores Idempotency-Key cannot promise.
func (s gatewaySuite) needsIdempotencyKeys(t *testing.T) {
	t.Helper()
	if s.opts.IgnoresIdempotencyKeys {
		t.Skip("relaxed: the provider ignores Idempotency-Key (GatewayFeatures.IgnoresIdempotencyKeys)")
	}
}

func (s gatewaySuite) idempotentCreate(t *testing.T) {
	s.needsIdempotencyKeys(t)
	gw := s.newGateway(t)
	req := NewRequest(t, 1000)
	first, second := mustCreate(t, gw, req), mustCreate(t, gw, req)
	if first.ID != second.ID || first.ClientSecret != second.ClientSecret {
		t.Errorf("second create gave intent %s; want the first, %s", second.ID, first.ID)
	}
	other := mustCreate(t, gw, NewRequest(t, 1000))
	if other.ID == first.ID {
		t.Errorf("another payment id got the same intent %s", other.ID)
	}
}

func (s gatewaySuite) concurrentCreate(t *testing.T) {
	s.needsIdempotencyKeys(t)
	gw := s.newGateway(t)
	req := NewRequest(t, 2500)
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			in, err := gw.CreateIntent(context.Background(), req)
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			ids[i] = in.ID
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("create %d made intent %s; want %s", i, id, ids[0])
		}
	}
}

func (s gatewaySuite) createConflict(t *testing.T) {
	s.needsIdempotencyKeys(t)
	gw := s.newGateway(t)
	req := NewRequest(t, 1000)
	mustCreate(t, gw, req)
	req.Amount = usd(t, 2000)
	_, err := gw.CreateIntent(context.Background(), req)
	wantError(t, err, app.ErrProviderRejected)
}

func (s gatewaySuite) retrieve(t *testing.T) {
	gw := s.newGateway(t)
	req := NewRequest(t, 3100)
	created := mustCreate(t, gw, req)
	got, err := gw.GetIntent(context.Background(), created.ID)
	if err != nil {
		t.Fatalf("GetIntent: %v", err)
	}
	if got.ID != created.ID {
		t.Errorf("ID = %q; want %q", got.ID, created.ID)
	}
	if s.opts.Fixtures {
		return
	}
	if got != created {
		t.Errorf("GetIntent = %+v; want what CreateIntent returned, %+v", got, created)
	}
}

func (s gatewaySuite) cancel(t *testing.T) {
	gw := s.newGateway(t)
	created := mustCreate(t, gw, NewRequest(t, 1500))
	canceled, err := gw.CancelIntent(context.Background(), created.ID)
	if err != nil {
		t.Fatalf("CancelIntent: %v", err)
	}
	if canceled.ID != created.ID {
		t.Errorf("ID = %q; want %q", canceled.ID, created.ID)
	}
	if s.opts.Fixtures {
		return
	}
	if canceled.Status != payment.IntentCanceled {
		t.Errorf("Status = %q; want %q", canceled.Status, payment.IntentCanceled)
	}
	if got := mustGet(t, gw, created.ID); got.Status != payment.IntentCanceled {
		t.Errorf("after cancel GetIntent status = %q; want %q", got.Status, payment.IntentCanceled)
	}
	_, err = gw.CancelIntent(context.Background(), created.ID)
	wantError(t, err, app.ErrProviderRejected)
	if s.opts.Pay == nil {
		return
	}
	paid := s.paidIntent(t, gw, 1500)
	_, err = gw.CancelIntent(context.Background(), paid.ID)
	wantError(t, err, app.ErrProviderRejected)
}

func (s gatewaySuite) refund(t *testing.T) {
	gw := s.newGateway(t)
	paid := s.paidIntent(t, gw, 5000)
	part := mustRefund(t, gw, refundRequest(t, paid.ID, 1200))
	if part.ID == "" || part.Amount != 1200 {
		t.Errorf("partial refund = %+v; want an id and amount 1200", part)
	}
	if part.Status != "succeeded" && part.Status != "pending" {
		t.Errorf("refund status = %q; want succeeded or pending", part.Status)
	}
	if s.opts.Fixtures {
		return
	}
	rest := mustRefund(t, gw, app.RefundRequest{RefundID: uuid.NewString(), IntentID: paid.ID})
	if rest.Amount != 3800 {
		t.Errorf("refund of the rest = %d; want 3800", rest.Amount)
	}
	if rest.ID == part.ID {
		t.Errorf("two refunds share id %s", rest.ID)
	}
	if got := mustGet(t, gw, paid.ID); got.AmountRefunded != 5000 || got.Status != payment.IntentSucceeded {
		t.Errorf("after refunds the intent is %s with %d refunded; want succeeded with 5000", got.Status, got.AmountRefunded)
	}
}

func (s gatewaySuite) idempotentRefund(t *testing.T) {
	s.needsIdempotencyKeys(t)
	gw := s.newGateway(t)
	paid := s.paidIntent(t, gw, 5000)
	req := refundRequest(t, paid.ID, 3000)
	first, second := mustRefund(t, gw, req), mustRefund(t, gw, req)
	if first != second {
		t.Errorf("repeated refund = %+v; want the first, %+v", second, first)
	}
	mustRefund(t, gw, refundRequest(t, paid.ID, 2000))
}

func (s gatewaySuite) overRefund(t *testing.T) {
	if s.opts.Fixtures {
		t.Skip("relaxed: refunds are fixtures, the provider keeps no captured amount (GatewayFeatures.Fixtures)")
	}
	gw := s.newGateway(t)
	paid := s.paidIntent(t, gw, 5000)
	_, err := gw.Refund(context.Background(), refundRequest(t, paid.ID, 5001))
	wantError(t, err, app.ErrProviderRejected)
	mustRefund(t, gw, refundRequest(t, paid.ID, 4000))
	_, err = gw.Refund(context.Background(), refundRequest(t, paid.ID, 1001))
	wantError(t, err, app.ErrProviderRejected)
	mustRefund(t, gw, refundRequest(t, paid.ID, 1000))
	_, err = gw.Refund(context.Background(), app.RefundRequest{RefundID: uuid.NewString(), IntentID: paid.ID})
	wantError(t, err, app.ErrProviderRejected)
}

func (s gatewaySuite) refundUnpaid(t *testing.T) {
	if s.opts.Fixtures {
		t.Skip("relaxed: the provider refunds any intent's fixture charge (GatewayFeatures.Fixtures)")
	}
	gw := s.newGateway(t)
	created := mustCreate(t, gw, NewRequest(t, 5000))
	_, err := gw.Refund(context.Background(), refundRequest(t, created.ID, 100))
	wantError(t, err, app.ErrProviderRejected)
}

func (s gatewaySuite) unknownIntent(t *testing.T) {
	if s.opts.AnyIDExists {
		t.Skip("relaxed: the provider answers every id with a fixture (GatewayFeatures.AnyIDExists)")
	}
	gw := s.newGateway(t)
	const id = "pi_doesNotExist0000000000"
	_, err := gw.GetIntent(context.Background(), id)
	wantError(t, err, app.ErrIntentNotFound)
	_, err = gw.CancelIntent(context.Background(), id)
	wantError(t, err, app.ErrIntentNotFound)
	_, err = gw.Refund(context.Background(), refundRequest(t, id, 100))
	wantError(t, err, app.ErrIntentNotFound)
}

// paidIntent creates an intent of amount cents and has GatewayFeatures.Pay pay it.
func (s gatewaySuite) paidIntent(t *testing.T, gw app.PaymentGateway, amount int64) payment.Intent {
	t.Helper()
	in := mustCreate(t, gw, NewRequest(t, amount))
	if s.opts.Pay == nil {
		if !s.opts.Fixtures {
			t.Skip("no GatewayFeatures.Pay to make an intent succeed")
		}
		return in
	}
	s.opts.Pay(t, in)
	if got := mustGet(t, gw, in.ID); !s.opts.Fixtures && got.Status != payment.IntentSucceeded {
		t.Fatalf("after Pay the intent is %q; want %q", got.Status, payment.IntentSucceeded)
	}
	return in
}

// NewRequest returns an intent request for amount US cents with fresh payment and order ids.
func NewRequest(t testing.TB, amount int64) app.IntentRequest {
	t.Helper()
	return app.IntentRequest{PaymentID: uuid.NewString(), OrderID: uuid.NewString(), Amount: usd(t, amount),
		ReceiptEmail: "olena@example.com", Description: "Wolfix order"}
}

func refundRequest(t *testing.T, intentID string, amount int64) app.RefundRequest {
	t.Helper()
	return app.RefundRequest{RefundID: uuid.NewString(), IntentID: intentID, Amount: usd(t, amount), Reason: "requested_by_customer"}
}

func mustCreate(t *testing.T, gw app.PaymentGateway, req app.IntentRequest) payment.Intent {
	t.Helper()
	in, err := gw.CreateIntent(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateIntent: %v", err)
	}
	return in
}

func mustGet(t *testing.T, gw app.PaymentGateway, id string) payment.Intent {
	t.Helper()
	in, err := gw.GetIntent(context.Background(), id)
	if err != nil {
		t.Fatalf("GetIntent(%s): %v", id, err)
	}
	return in
}

func mustRefund(t *testing.T, gw app.PaymentGateway, req app.RefundRequest) app.RefundResult {
	t.Helper()
	r, err := gw.Refund(context.Background(), req)
	if err != nil {
		t.Fatalf("Refund(%+v): %v", req, err)
	}
	return r
}

func wantError(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error = %v; want %v", err, want)
	}
}
