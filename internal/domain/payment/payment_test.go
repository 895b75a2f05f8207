package payment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
)

var (
	t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
)

const (
	orderID  = "o1"
	intentID = "pi_123"
)

func amount(t *testing.T) money.Money {
	t.Helper()
	m, err := money.New(45998, money.USD)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cardIn returns a card payment with an attached intent, in status s.
func cardIn(t *testing.T, s payment.Status) *payment.Payment {
	t.Helper()
	snap := payment.Snapshot{ID: "pay1", Provider: "sandbox", IntentID: intentID, Method: payment.MethodCard,
		Amount: amount(t), Status: s}
	switch s {
	case payment.StatusFailed:
		snap.FailureCode, snap.FailureMessage = "card_declined", "Your card was declined."
	case payment.StatusPaid, payment.StatusRefunded:
		snap.PaidAt = t0
	}
	return payment.Restore(snap)
}

func intent(st payment.IntentStatus) payment.Intent {
	return payment.Intent{ID: intentID, Amount: 45998, Currency: "usd", Status: st, OrderID: orderID}
}

func TestNew(t *testing.T) {
	tests := []struct {
		method       payment.Method
		wantProvider string
	}{
		{payment.MethodCard, ""},
		{payment.MethodCash, payment.ProviderCash},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			p := payment.New("pay1", tt.method, amount(t))
			if p.ID() != "pay1" || p.Method() != tt.method || p.Provider() != tt.wantProvider ||
				p.Status() != payment.StatusPending || p.Amount() != amount(t) || p.IntentID() != "" ||
				!p.PaidAt().IsZero() || p.IsPaid() || p.FailureCode() != "" || p.FailureMessage() != "" {
				t.Errorf("New = %+v; want pending %s payment by provider %q", p.Snapshot(), tt.method, tt.wantProvider)
			}
		})
	}
}

func TestAttachIntent(t *testing.T) {
	tests := []struct {
		name    string
		p       func(t *testing.T) *payment.Payment
		intent  string
		wantErr error
	}{
		{"card", func(t *testing.T) *payment.Payment { return payment.New("pay1", payment.MethodCard, amount(t)) }, "pi_1", nil},
		{"cash", func(t *testing.T) *payment.Payment { return payment.New("pay1", payment.MethodCash, amount(t)) }, "pi_1", payment.ErrNotCard},
		{"already attached", func(t *testing.T) *payment.Payment { return cardIn(t, payment.StatusPending) }, "pi_2", payment.ErrAlreadyAttached},
		{"same intent again", func(t *testing.T) *payment.Payment { return cardIn(t, payment.StatusPending) }, intentID, payment.ErrAlreadyAttached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p(t)
			before := p.Snapshot()
			err := p.AttachIntent("sandbox", tt.intent)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AttachIntent error = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				if p.Snapshot() != before {
					t.Errorf("after refused AttachIntent = %+v; want unchanged %+v", p.Snapshot(), before)
				}
				return
			}
			if p.Provider() != "sandbox" || p.IntentID() != tt.intent {
				t.Errorf("got %s/%s; want sandbox/%s", p.Provider(), p.IntentID(), tt.intent)
			}
		})
	}
}

// An empty intent id would let an intent report with an empty id match a payment that has none.
func TestAttachIntentRefusesEmptyID(t *testing.T) {
	p := payment.New("pay1", payment.MethodCard, amount(t))
	if err := p.AttachIntent("sandbox", ""); err == nil {
		t.Fatalf("AttachIntent(\"\") error = nil; want an error")
	}
	if p.IntentID() != "" || p.Provider() != "" {
		t.Errorf("after refused AttachIntent provider/intent = %q/%q; want empty", p.Provider(), p.IntentID())
	}
	if err := p.AttachIntent("sandbox", "pi_9"); err != nil {
		t.Errorf("AttachIntent after a refused one error = %v; want nil", err)
	}
}

func TestApplyIntentWithoutAttachedIntent(t *testing.T) {
	p := payment.New("pay1", payment.MethodCard, amount(t))
	in := intent(payment.IntentSucceeded)
	in.ID = ""
	out, err := p.ApplyIntent(in, orderID, t1)
	if !errors.Is(err, payment.ErrOrderMismatch) || out != payment.Unchanged {
		t.Errorf("ApplyIntent(no intent attached) = %v, %v; want Unchanged, %v", out, err, payment.ErrOrderMismatch)
	}
	if p.Status() != payment.StatusPending {
		t.Errorf("status = %s; want Pending", p.Status())
	}
}

// TestApplyIntentMatrix applies every intent status to a payment in every status.
func TestApplyIntentMatrix(t *testing.T) {
	type want struct {
		outcome payment.Outcome
		status  payment.Status
	}
	P, D, F, R := payment.StatusPending, payment.StatusPaid, payment.StatusFailed, payment.StatusRefunded
	u, paid, failed, canceled := payment.Unchanged, payment.BecamePaid, payment.BecameFailed, payment.WasCanceled
	tests := []struct {
		name   string
		in     payment.Intent
		expect map[payment.Status]want
	}{
		{"succeeded", intent(payment.IntentSucceeded),
			map[payment.Status]want{P: {paid, D}, F: {paid, D}, D: {u, D}, R: {u, R}}},
		{"canceled", intent(payment.IntentCanceled),
			map[payment.Status]want{P: {canceled, P}, F: {canceled, F}, D: {u, D}, R: {u, R}}},
		{"requires_payment_method with new error", withError(intent(payment.IntentRequiresPaymentMethod), "insufficient_funds", "Insufficient funds."),
			map[payment.Status]want{P: {failed, F}, F: {failed, F}, D: {u, D}, R: {u, R}}},
		{"requires_payment_method with the same error", withError(intent(payment.IntentRequiresPaymentMethod), "card_declined", "Your card was declined."),
			map[payment.Status]want{P: {failed, F}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"requires_payment_method without error", intent(payment.IntentRequiresPaymentMethod),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"requires_confirmation", intent(payment.IntentRequiresConfirmation),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"requires_action", intent(payment.IntentRequiresAction),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"processing", intent(payment.IntentProcessing),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"requires_capture", intent(payment.IntentRequiresCapture),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
		{"unknown status", intent("something_new"),
			map[payment.Status]want{P: {u, P}, F: {u, F}, D: {u, D}, R: {u, R}}},
	}
	for _, tt := range tests {
		for _, from := range []payment.Status{P, F, D, R} {
			w := tt.expect[from]
			t.Run(tt.name+"/from "+string(from), func(t *testing.T) {
				p := cardIn(t, from)
				before := p.Snapshot()
				out, err := p.ApplyIntent(tt.in, orderID, t1)
				if err != nil {
					t.Fatalf("ApplyIntent error = %v; want nil", err)
				}
				if out != w.outcome || p.Status() != w.status {
					t.Fatalf("ApplyIntent = %v, status %s; want %v, status %s", out, p.Status(), w.outcome, w.status)
				}
				after := p.Snapshot()
				switch out {
				case payment.Unchanged, payment.WasCanceled:
					if after != before {
						t.Errorf("payment = %+v; want unchanged %+v", after, before)
					}
				case payment.BecamePaid:
					if !p.PaidAt().Equal(t1) || p.FailureCode() != "" || p.FailureMessage() != "" || !p.IsPaid() {
						t.Errorf("paid payment = %+v; want paidAt %v and no failure", after, t1)
					}
				case payment.BecameFailed:
					if p.FailureCode() != tt.in.LastErrorCode || p.FailureMessage() != tt.in.LastErrorMessage || p.IsPaid() {
						t.Errorf("failed payment = %+v; want failure %q/%q", after, tt.in.LastErrorCode, tt.in.LastErrorMessage)
					}
				}
			})
		}
	}
}

func withError(in payment.Intent, code, msg string) payment.Intent {
	in.LastErrorCode, in.LastErrorMessage = code, msg
	return in
}

func TestApplyIntentRefusesMismatch(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*payment.Intent)
		orderID string
		wantErr error
	}{
		{"other intent", func(in *payment.Intent) { in.ID = "pi_other" }, orderID, payment.ErrOrderMismatch},
		{"empty intent id", func(in *payment.Intent) { in.ID = "" }, orderID, payment.ErrOrderMismatch},
		{"other order in metadata", func(in *payment.Intent) { in.OrderID = "o2" }, orderID, payment.ErrOrderMismatch},
		{"no order in metadata", func(in *payment.Intent) { in.OrderID = "" }, orderID, payment.ErrOrderMismatch},
		{"asked for another order", func(*payment.Intent) {}, "o2", payment.ErrOrderMismatch},
		{"amount lower", func(in *payment.Intent) { in.Amount = 45997 }, orderID, payment.ErrAmountMismatch},
		{"amount higher", func(in *payment.Intent) { in.Amount = 45999 }, orderID, payment.ErrAmountMismatch},
		{"amount zero", func(in *payment.Intent) { in.Amount = 0 }, orderID, payment.ErrAmountMismatch},
		{"amount in major units", func(in *payment.Intent) { in.Amount = 459 }, orderID, payment.ErrAmountMismatch},
		{"currency", func(in *payment.Intent) { in.Currency = "eur" }, orderID, payment.ErrAmountMismatch},
		{"currency empty", func(in *payment.Intent) { in.Currency = "" }, orderID, payment.ErrAmountMismatch},
	}
	for _, tt := range tests {
		for _, from := range []payment.Status{payment.StatusPending, payment.StatusFailed} {
			for _, st := range []payment.IntentStatus{payment.IntentSucceeded, payment.IntentCanceled, payment.IntentRequiresPaymentMethod} {
				if tt.wantErr == payment.ErrAmountMismatch && st != payment.IntentSucceeded {
					continue // amount only matters for money that moved
				}
				t.Run(tt.name+"/"+string(st)+"/from "+string(from), func(t *testing.T) {
					p := cardIn(t, from)
					before := p.Snapshot()
					in := withError(intent(st), "expired_card", "Expired.")
					tt.mod(&in)
					out, err := p.ApplyIntent(in, tt.orderID, t1)
					if !errors.Is(err, tt.wantErr) || out != payment.Unchanged {
						t.Fatalf("ApplyIntent = %v, %v; want Unchanged, %v", out, err, tt.wantErr)
					}
					if p.Snapshot() != before {
						t.Errorf("payment = %+v; want unchanged %+v", p.Snapshot(), before)
					}
				})
			}
		}
	}
}

func TestApplyIntentCurrencyCaseInsensitive(t *testing.T) {
	for _, cur := range []string{"usd", "USD", "Usd"} {
		p := cardIn(t, payment.StatusPending)
		in := intent(payment.IntentSucceeded)
		in.Currency = cur
		if out, err := p.ApplyIntent(in, orderID, t1); err != nil || out != payment.BecamePaid {
			t.Errorf("ApplyIntent(currency %q) = %v, %v; want BecamePaid, nil", cur, out, err)
		}
	}
}

func TestApplyIntentOnCash(t *testing.T) {
	p := payment.New("pay1", payment.MethodCash, amount(t))
	out, err := p.ApplyIntent(intent(payment.IntentSucceeded), orderID, t1)
	if !errors.Is(err, payment.ErrNotCard) || out != payment.Unchanged || p.Status() != payment.StatusPending {
		t.Errorf("ApplyIntent on cash = %v, %v, %s; want Unchanged, %v, Pending", out, err, p.Status(), payment.ErrNotCard)
	}
}

// A retry story: declined, declined again with another code, then paid, then late reports that
// arrive out of order change nothing.
func TestApplyIntentForwardOnlySequence(t *testing.T) {
	p := cardIn(t, payment.StatusPending)
	steps := []struct {
		in   payment.Intent
		want payment.Outcome
		st   payment.Status
	}{
		{withError(intent(payment.IntentRequiresPaymentMethod), "card_declined", "Declined."), payment.BecameFailed, payment.StatusFailed},
		{withError(intent(payment.IntentRequiresPaymentMethod), "card_declined", "Declined."), payment.Unchanged, payment.StatusFailed},
		{withError(intent(payment.IntentRequiresPaymentMethod), "insufficient_funds", "No funds."), payment.BecameFailed, payment.StatusFailed},
		{intent(payment.IntentProcessing), payment.Unchanged, payment.StatusFailed},
		{intent(payment.IntentSucceeded), payment.BecamePaid, payment.StatusPaid},
		{intent(payment.IntentSucceeded), payment.Unchanged, payment.StatusPaid},
		{withError(intent(payment.IntentRequiresPaymentMethod), "expired_card", "Expired."), payment.Unchanged, payment.StatusPaid},
		{intent(payment.IntentCanceled), payment.Unchanged, payment.StatusPaid},
	}
	for i, s := range steps {
		at := t0.Add(time.Duration(i+1) * time.Minute)
		out, err := p.ApplyIntent(s.in, orderID, at)
		if err != nil || out != s.want || p.Status() != s.st {
			t.Fatalf("step %d (%s %s): got %v, %v, %s; want %v, nil, %s", i, s.in.Status, s.in.LastErrorCode, out, err, p.Status(), s.want, s.st)
		}
	}
	if want := t0.Add(5 * time.Minute); !p.PaidAt().Equal(want) {
		t.Errorf("PaidAt = %v; want %v (the first success)", p.PaidAt(), want)
	}
	if p.FailureCode() != "" {
		t.Errorf("FailureCode = %q; want cleared after payment", p.FailureCode())
	}
}

func TestCollectCash(t *testing.T) {
	p := payment.New("pay1", payment.MethodCash, amount(t))
	out, err := p.CollectCash(t1)
	if err != nil || out != payment.BecamePaid || !p.IsPaid() || !p.PaidAt().Equal(t1) {
		t.Fatalf("CollectCash = %v, %v (paid %v at %v); want BecamePaid, nil, paid at %v", out, err, p.IsPaid(), p.PaidAt(), t1)
	}
	out, err = p.CollectCash(t1.Add(time.Hour))
	if err != nil || out != payment.Unchanged || !p.PaidAt().Equal(t1) {
		t.Errorf("second CollectCash = %v, %v, paidAt %v; want Unchanged, nil, %v", out, err, p.PaidAt(), t1)
	}
	p.MarkRefunded()
	if out, err = p.CollectCash(t1); err != nil || out != payment.Unchanged || p.Status() != payment.StatusRefunded {
		t.Errorf("CollectCash after refund = %v, %v, %s; want Unchanged, nil, Refunded", out, err, p.Status())
	}

	card := cardIn(t, payment.StatusPending)
	if out, err := card.CollectCash(t1); !errors.Is(err, payment.ErrNotCash) || out != payment.Unchanged || card.Status() != payment.StatusPending {
		t.Errorf("CollectCash on card = %v, %v, %s; want Unchanged, %v, Pending", out, err, card.Status(), payment.ErrNotCash)
	}
}

func TestMarkRefunded(t *testing.T) {
	tests := []struct {
		from, want payment.Status
	}{
		{payment.StatusPaid, payment.StatusRefunded},
		{payment.StatusRefunded, payment.StatusRefunded},
		// Nothing was received, so nothing can go back (invariant 5).
		{payment.StatusPending, payment.StatusPending},
		{payment.StatusFailed, payment.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			p := cardIn(t, tt.from)
			p.MarkRefunded()
			if p.Status() != tt.want {
				t.Errorf("MarkRefunded from %s: status = %s; want %s", tt.from, p.Status(), tt.want)
			}
			if p.IsPaid() {
				t.Errorf("IsPaid() = true after MarkRefunded; want false")
			}
		})
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	snap := payment.Snapshot{ID: "pay1", Provider: "stripe", IntentID: "pi_1", Method: payment.MethodCard,
		Amount: amount(t), Status: payment.StatusFailed, FailureCode: "card_declined", FailureMessage: "No.", PaidAt: t0}
	if got := payment.Restore(snap).Snapshot(); got != snap {
		t.Errorf("Restore(s).Snapshot() = %+v; want %+v", got, snap)
	}
}
