package order_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// total is the seed order's total (459.98 USD) in minor units.
const total = 45998

var admin = order.CauseAdmin("a1")

// paidCard places a card order and pays it through the provider: Confirmed, payment Paid.
func paidCard(t testing.TB) *order.Order {
	t.Helper()
	o := placeCard(t)
	if out, err := o.ApplyIntent(okIntent(o, payment.IntentSucceeded), order.CauseWebhook("evt_paid"), t0); err != nil || out != payment.BecamePaid {
		t.Fatalf("ApplyIntent = %v, %v; want BecamePaid", out, err)
	}
	return o
}

// paidCash places a cash-on-delivery order and collects the cash: Confirmed, payment Paid.
func paidCash(t testing.TB) *order.Order {
	t.Helper()
	o := place(t, payment.MethodCash)
	if out, err := o.CollectCash(admin, t0); err != nil || out != payment.BecamePaid {
		t.Fatalf("CollectCash = %v, %v; want BecamePaid", out, err)
	}
	return o
}

func usd(t testing.TB, minor int64) *money.Money {
	t.Helper()
	m := mustMoney(t, minor, money.USD)
	return &m
}

func request(t testing.TB, o *order.Order, id string, amount *money.Money, restock bool) order.Refund {
	t.Helper()
	r, err := o.RequestRefund(order.RefundRequest{ID: id, Amount: amount, Restock: restock}, admin, t1)
	if err != nil {
		t.Fatalf("RequestRefund(%s): %v", id, err)
	}
	return r
}

func settle(t testing.TB, o *order.Order, id string, ok bool) bool {
	t.Helper()
	restock, err := o.SettleRefund(id, "re_"+id, ok, order.CauseWebhook("evt_"+id), t2)
	if err != nil {
		t.Fatalf("SettleRefund(%s): %v", id, err)
	}
	return restock
}

func refunded(t testing.TB, o *order.Order) int64 {
	t.Helper()
	m, err := o.RefundedAmount()
	if err != nil {
		t.Fatalf("RefundedAmount: %v", err)
	}
	return m.Minor()
}

func refundable(t testing.TB, o *order.Order) int64 {
	t.Helper()
	m, err := o.Refundable()
	if err != nil {
		t.Fatalf("Refundable: %v", err)
	}
	return m.Minor()
}

// unchanged fails unless o's stored form still equals before (a refused command changes nothing).
func unchanged(t testing.TB, o *order.Order, before order.Snapshot) {
	t.Helper()
	if got := o.Snapshot(); !reflect.DeepEqual(got, before) {
		t.Errorf("order changed:\n got %+v\nwant %+v", got, before)
	}
}

func TestRequestRefundNeedsPaidPayment(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) *order.Order
		wantErr error
	}{
		{"card pending", func(t *testing.T) *order.Order { return placeCard(t) }, order.ErrRefundUnpaid},
		{"card failed", func(t *testing.T) *order.Order {
			o := placeCard(t)
			in := okIntent(o, payment.IntentRequiresPaymentMethod)
			in.LastErrorCode = "card_declined"
			if _, err := o.ApplyIntent(in, order.CauseWebhook("evt_f"), t0); err != nil {
				t.Fatal(err)
			}
			return o
		}, order.ErrRefundUnpaid},
		{"cash not collected", func(t *testing.T) *order.Order { return place(t, payment.MethodCash) }, order.ErrRefundUnpaid},
		{"cancelled unpaid", func(t *testing.T) *order.Order {
			o := placeCard(t)
			if _, err := o.Cancel(false, order.CauseCustomer("c1"), t0); err != nil {
				t.Fatal(err)
			}
			return o
		}, order.ErrRefundUnpaid},
		{"refunded in full", func(t *testing.T) *order.Order {
			o := paidCard(t)
			request(t, o, "r1", nil, false)
			settle(t, o, "r1", true)
			return o
		}, order.ErrAlreadyRefunded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.setup(t)
			before := o.Snapshot()
			for _, amount := range []*money.Money{nil, usd(t, 100)} {
				_, err := o.RequestRefund(order.RefundRequest{ID: "rx", Amount: amount}, admin, t1)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("RequestRefund(amount %v) = %v; want %v", amount, err, tt.wantErr)
				}
				if f, ok := fault.As(err); !ok || f.Kind != fault.KindConflict {
					t.Errorf("RequestRefund error %v; want a conflict fault", err)
				}
			}
			unchanged(t, o, before)
		})
	}
}

func TestFullRefund(t *testing.T) {
	for _, method := range []payment.Method{payment.MethodCard, payment.MethodCash} {
		t.Run(string(method), func(t *testing.T) {
			o := paidCard(t)
			if method == payment.MethodCash {
				o = paidCash(t)
			}
			start := len(o.Timeline())
			r, err := o.RequestRefund(order.RefundRequest{ID: "r1", Reason: "damaged"}, admin, t1)
			if err != nil {
				t.Fatalf("RequestRefund: %v", err)
			}
			want := order.Refund{ID: "r1", Amount: *usd(t, total), Status: order.RefundPending, Reason: "damaged", CreatedAt: t1}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("refund = %+v; want %+v", r, want)
			}
			if got := o.Payment().Status(); got != payment.StatusPaid {
				t.Errorf("payment while the refund is pending = %s; want Paid", got)
			}
			if got, want := refunded(t, o), int64(0); got != want {
				t.Errorf("RefundedAmount while pending = %d; want %d", got, want)
			}
			if got := refundable(t, o); got != 0 {
				t.Errorf("Refundable while pending = %d; want 0", got)
			}

			if restock := settle(t, o, "r1", true); restock {
				t.Errorf("SettleRefund restock = true; want false (not asked)")
			}
			if got := o.Payment().Status(); got != payment.StatusRefunded {
				t.Errorf("payment = %s; want Refunded", got)
			}
			if got := o.Status(); got != order.StatusRefunded {
				t.Errorf("Status = %s; want Refunded", got)
			}
			if got := refunded(t, o); got != total {
				t.Errorf("RefundedAmount = %d; want %d", got, total)
			}
			if err := o.RequirePaid(); err != nil {
				t.Errorf("RequirePaid after refund = %v; want nil (it was paid)", err)
			}
			wantTimeline := []order.Change{
				{At: t1, Type: order.ChangeRefundRequested, From: "", To: "459.98", Cause: admin},
				{At: t2, Type: order.ChangeRefunded, From: "", To: "459.98", Cause: "webhook evt_r1"},
				{At: t2, Type: order.ChangeFullyRefunded, From: "Confirmed", To: "Refunded", Cause: "webhook evt_r1"},
			}
			if got := o.Timeline()[start:]; !reflect.DeepEqual(got, wantTimeline) {
				t.Errorf("Timeline tail = %+v; want %+v", got, wantTimeline)
			}
			if got := o.Refunds(); len(got) != 1 || got[0].Status != order.RefundSucceeded || got[0].ProviderRefundID != "re_r1" {
				t.Errorf("Refunds = %+v; want r1 succeeded as re_r1", got)
			}
			if !o.UpdatedAt().Equal(t2) {
				t.Errorf("UpdatedAt = %v; want %v", o.UpdatedAt(), t2)
			}
		})
	}
}

func TestPartialRefundsAddUp(t *testing.T) {
	o := paidCard(t)
	steps := []struct {
		amount        int64
		wantRefunded  int64
		wantLeft      int64
		wantPayment   payment.Status
		wantStatus    order.Status
		wantTimelineT string
	}{
		{10000, 10000, 35998, payment.StatusPaid, order.StatusConfirmed, "100.00"},
		{20000, 30000, 15998, payment.StatusPaid, order.StatusConfirmed, "300.00"},
		{15997, 45997, 1, payment.StatusPaid, order.StatusConfirmed, "459.97"},
		{1, total, 0, payment.StatusRefunded, order.StatusRefunded, "459.98"},
	}
	for i, s := range steps {
		id := "r" + string(rune('1'+i))
		r := request(t, o, id, usd(t, s.amount), false)
		if r.Amount.Minor() != s.amount {
			t.Errorf("%s amount = %d; want %d", id, r.Amount.Minor(), s.amount)
		}
		settle(t, o, id, true)
		if got := refunded(t, o); got != s.wantRefunded {
			t.Errorf("after %s: RefundedAmount = %d; want %d", id, got, s.wantRefunded)
		}
		if got := refundable(t, o); got != s.wantLeft {
			t.Errorf("after %s: Refundable = %d; want %d", id, got, s.wantLeft)
		}
		if got := o.Payment().Status(); got != s.wantPayment {
			t.Errorf("after %s: payment = %s; want %s", id, got, s.wantPayment)
		}
		if got := o.Status(); got != s.wantStatus {
			t.Errorf("after %s: Status = %s; want %s", id, got, s.wantStatus)
		}
		var last order.Change
		for _, c := range o.Timeline() {
			if c.Type == order.ChangeRefunded {
				last = c
			}
		}
		if last.To != s.wantTimelineT {
			t.Errorf("after %s: last refund.succeeded To = %q; want the running total %q", id, last.To, s.wantTimelineT)
		}
	}
	if got := len(o.Refunds()); got != len(steps) {
		t.Errorf("len(Refunds) = %d; want %d", got, len(steps))
	}
}

func TestRefundTooLarge(t *testing.T) {
	tests := []struct {
		name    string
		settled []int64 // partial refunds already made
		pending []int64 // partial refunds booked, not settled
		amount  int64
	}{
		{"one cent over the total", nil, nil, total + 1},
		{"far over the total", nil, nil, 1 << 62},
		{"over what is left after a refund", []int64{40000}, nil, 5999},
		{"over what is left after a pending refund", nil, []int64{40000}, 5999},
		{"over what is left after both", []int64{10000}, []int64{30000}, 6000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := paidCard(t)
			for i, a := range tt.settled {
				id := "s" + string(rune('0'+i))
				request(t, o, id, usd(t, a), false)
				settle(t, o, id, true)
			}
			for i, a := range tt.pending {
				request(t, o, "p"+string(rune('0'+i)), usd(t, a), false)
			}
			before := o.Snapshot()
			_, err := o.RequestRefund(order.RefundRequest{ID: "big", Amount: usd(t, tt.amount)}, admin, t2)
			if !errors.Is(err, order.ErrRefundTooLarge) {
				t.Fatalf("RequestRefund = %v; want ErrRefundTooLarge", err)
			}
			left := refundable(t, o)
			if want := mustMoney(t, left, money.USD).String(); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q; want it to name what is left, %s", err, want)
			}
			unchanged(t, o, before)
			// Exactly what is left still passes.
			if _, err := o.RequestRefund(order.RefundRequest{ID: "rest", Amount: usd(t, left)}, admin, t2); err != nil {
				t.Errorf("RequestRefund(what is left, %d) = %v; want nil", left, err)
			}
		})
	}
}

func TestRefundRequestInvalid(t *testing.T) {
	eur := mustMoney(t, 100, money.EUR)
	zero := mustMoney(t, 0, money.USD)
	noCurrency := money.Money{}
	tests := []struct {
		name    string
		req     order.RefundRequest
		wantErr error
	}{
		{"zero", order.RefundRequest{ID: "r", Amount: &zero}, order.ErrRefundAmount},
		{"other currency", order.RefundRequest{ID: "r", Amount: &eur}, money.ErrCurrencyMismatch},
		{"no currency", order.RefundRequest{ID: "r", Amount: &noCurrency}, money.ErrCurrencyMismatch},
		{"reason 501 characters", order.RefundRequest{ID: "r", Reason: strings.Repeat("x", 501)}, order.ErrRefundReasonTooLong},
		{"reason 501 letters of two bytes", order.RefundRequest{ID: "r", Reason: strings.Repeat("ї", 501)}, order.ErrRefundReasonTooLong},
		{"reason with NUL", order.RefundRequest{ID: "r", Reason: "bad\x00reason"}, order.ErrRefundReasonTooLong},
		{"reason not UTF-8", order.RefundRequest{ID: "r", Reason: "bad \xff"}, order.ErrRefundReasonTooLong},
		{"restock with a partial amount", order.RefundRequest{ID: "r", Amount: usd(t, 100), Restock: true}, order.ErrRestockNeedsFull},
		{"restock one cent short", order.RefundRequest{ID: "r", Amount: usd(t, total-1), Restock: true}, order.ErrRestockNeedsFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := paidCard(t)
			before := o.Snapshot()
			_, err := o.RequestRefund(tt.req, admin, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RequestRefund = %v; want %v", err, tt.wantErr)
			}
			if f, ok := fault.As(err); !ok || f.Kind != fault.KindInvalid {
				t.Errorf("error %v; want an invalid-request fault (4xx)", err)
			}
			unchanged(t, o, before)
		})
	}
	if _, err := money.New(-1, money.USD); !errors.Is(err, money.ErrNegative) {
		t.Errorf("money.New(-1) = %v; want ErrNegative (a negative refund cannot even be built)", err)
	}

	t.Run("reasons at the limit", func(t *testing.T) {
		for _, reason := range []string{"", strings.Repeat("x", 500), strings.Repeat("ї", 500), "Повернення: товар пошкоджено 📦"} {
			o := paidCard(t)
			r, err := o.RequestRefund(order.RefundRequest{ID: "r", Reason: reason}, admin, t1)
			if err != nil || r.Reason != reason {
				t.Errorf("RequestRefund(reason of %d bytes) = %q, %v; want it kept", len(reason), r.Reason, err)
			}
		}
	})
}

func TestPendingRefundsCountAgainstRefundable(t *testing.T) {
	t.Run("two full requests", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", nil, true)
		before := o.Snapshot()
		for _, restock := range []bool{false, true} {
			_, err := o.RequestRefund(order.RefundRequest{ID: "r2", Restock: restock}, admin, t1)
			if !errors.Is(err, order.ErrAlreadyRefunded) {
				t.Errorf("second full RequestRefund(restock %v) = %v; want ErrAlreadyRefunded", restock, err)
			}
			if _, err := o.RequestRefund(order.RefundRequest{ID: "r3", Amount: usd(t, 1)}, admin, t1); !errors.Is(err, order.ErrAlreadyRefunded) {
				t.Errorf("partial RequestRefund while a full one is pending = %v; want ErrAlreadyRefunded", err)
			}
		}
		unchanged(t, o, before)
	})
	t.Run("full after partial takes the rest", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", usd(t, 30000), false)
		r := request(t, o, "r2", nil, false)
		if r.Amount.Minor() != total-30000 {
			t.Errorf("full refund after a pending partial = %d; want %d", r.Amount.Minor(), total-30000)
		}
		settle(t, o, "r2", true)
		if o.Payment().Status() != payment.StatusPaid || o.Status() != order.StatusConfirmed {
			t.Errorf("after the rest settled but r1 pending: payment %s, order %s; want Paid, Confirmed", o.Payment().Status(), o.Status())
		}
		settle(t, o, "r1", true)
		if o.Payment().Status() != payment.StatusRefunded || o.Status() != order.StatusRefunded || refunded(t, o) != total {
			t.Errorf("after both settled: payment %s, order %s, refunded %d; want Refunded, Refunded, %d",
				o.Payment().Status(), o.Status(), refunded(t, o), total)
		}
	})
}

func TestFailedRefundFreesTheAmount(t *testing.T) {
	o := paidCard(t)
	request(t, o, "r1", nil, false)
	start := len(o.Timeline())
	if restock := settle(t, o, "r1", false); restock {
		t.Errorf("failed SettleRefund restock = true; want false")
	}
	want := []order.Change{{At: t2, Type: order.ChangeRefundFailed, From: "pending", To: "failed", Cause: "webhook evt_r1"}}
	if got := o.Timeline()[start:]; !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline tail = %+v; want %+v", got, want)
	}
	if got := o.Refunds()[0]; got.Status != order.RefundFailed || got.ProviderRefundID != "re_r1" {
		t.Errorf("refund = %+v; want failed, re_r1", got)
	}
	if got := refundable(t, o); got != total {
		t.Errorf("Refundable after a failed refund = %d; want %d", got, total)
	}
	if got := refunded(t, o); got != 0 {
		t.Errorf("RefundedAmount after a failed refund = %d; want 0", got)
	}
	if o.Payment().Status() != payment.StatusPaid || o.Status() != order.StatusConfirmed {
		t.Errorf("payment %s, order %s; want Paid, Confirmed", o.Payment().Status(), o.Status())
	}
	r := request(t, o, "r2", nil, false)
	if r.Amount.Minor() != total {
		t.Errorf("retry amount = %d; want %d", r.Amount.Minor(), total)
	}
	settle(t, o, "r2", true)
	if refunded(t, o) != total || o.Status() != order.StatusRefunded {
		t.Errorf("after the retry: refunded %d, status %s; want %d, Refunded", refunded(t, o), o.Status(), total)
	}
}

func TestSettleRefundIsFinal(t *testing.T) {
	for _, first := range []bool{true, false} {
		for _, second := range []bool{true, false} {
			name := map[bool]string{true: "succeeded", false: "failed"}
			t.Run(name[first]+" then "+name[second], func(t *testing.T) {
				o := paidCard(t)
				request(t, o, "r1", nil, true)
				settle(t, o, "r1", first)
				before := o.Snapshot()
				restock, err := o.SettleRefund("r1", "re_other", second, order.CauseWebhook("evt_dup"), t2.Add(time.Hour))
				if err != nil || restock {
					t.Errorf("second SettleRefund = %v, %v; want false, nil", restock, err)
				}
				unchanged(t, o, before)
			})
		}
	}
	t.Run("unknown id", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", nil, false)
		before := o.Snapshot()
		if restock, err := o.SettleRefund("nope", "re_x", true, admin, t2); !errors.Is(err, order.ErrRefundNotFound) || restock {
			t.Errorf("SettleRefund(unknown) = %v, %v; want false, ErrRefundNotFound", restock, err)
		}
		unchanged(t, o, before)
	})
	t.Run("external refund", func(t *testing.T) {
		o := paidCard(t)
		if _, err := o.SyncProviderRefunds("ext", 100, admin, t1); err != nil {
			t.Fatal(err)
		}
		before := o.Snapshot()
		if restock, err := o.SettleRefund("ext", "re_x", false, admin, t2); err != nil || restock {
			t.Errorf("SettleRefund(external) = %v, %v; want false, nil", restock, err)
		}
		unchanged(t, o, before)
	})
}

func TestRestock(t *testing.T) {
	t.Run("full refund with restock returns stock once", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", nil, true)
		if !settle(t, o, "r1", true) {
			t.Errorf("SettleRefund restock = false; want true")
		}
		if !o.Snapshot().StockReturned {
			t.Errorf("StockReturned = false; want true")
		}
	})
	t.Run("explicit full amount with restock", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", usd(t, total), true)
		if !settle(t, o, "r1", true) {
			t.Errorf("SettleRefund restock = false; want true")
		}
	})
	t.Run("the refund completing earlier partials may restock", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", usd(t, 10000), false)
		settle(t, o, "r1", true)
		if _, err := o.RequestRefund(order.RefundRequest{ID: "r2", Amount: usd(t, 10000), Restock: true}, admin, t1); !errors.Is(err, order.ErrRestockNeedsFull) {
			t.Errorf("partial restock = %v; want ErrRestockNeedsFull", err)
		}
		request(t, o, "r2", usd(t, total-10000), true)
		if !settle(t, o, "r2", true) {
			t.Errorf("SettleRefund restock = false; want true")
		}
	})
	t.Run("a failed restock refund returns nothing, its retry does", func(t *testing.T) {
		o := paidCard(t)
		request(t, o, "r1", nil, true)
		if settle(t, o, "r1", false) {
			t.Errorf("failed SettleRefund restock = true; want false")
		}
		if o.Snapshot().StockReturned {
			t.Errorf("StockReturned after a failed refund = true; want false")
		}
		request(t, o, "r2", nil, true)
		if !settle(t, o, "r2", true) {
			t.Errorf("retry SettleRefund restock = false; want true")
		}
	})
	t.Run("admin cancel then refund with restock", func(t *testing.T) {
		o := paidCard(t)
		release, err := o.Cancel(true, admin, t1)
		if err != nil || !release {
			t.Fatalf("Cancel = %v, %v; want true, nil", release, err)
		}
		request(t, o, "r1", nil, true)
		if settle(t, o, "r1", true) {
			t.Errorf("SettleRefund restock after Cancel released the stock = true; want false")
		}
		if o.Status() != order.StatusRefunded || o.Payment().Status() != payment.StatusRefunded {
			t.Errorf("status %s, payment %s; want Refunded, Refunded", o.Status(), o.Payment().Status())
		}
		if release, err := o.Cancel(true, admin, t2); err == nil || release {
			t.Errorf("Cancel of a refunded order = %v, %v; want false and an error", release, err)
		}
	})
	// The restocking refund completes the booked total, but an earlier pending refund fails: the
	// order is only partly refunded (and can still be shipped), so its stock must not go back yet.
	t.Run("restock waits until the order is refunded in full", func(t *testing.T) {
		for _, earlierSucceeds := range []bool{true, false} {
			o := paidCard(t)
			request(t, o, "r1", usd(t, 10000), false)
			request(t, o, "r2", nil, true)
			if settle(t, o, "r2", true) {
				t.Errorf("restock while r1 is still pending = true; want false")
			}
			if got := settle(t, o, "r1", earlierSucceeds); got != earlierSucceeds {
				t.Errorf("r1 succeeded=%v: restock = %v; want %v", earlierSucceeds, got, earlierSucceeds)
			}
			if earlierSucceeds {
				continue
			}
			if o.Status() != order.StatusConfirmed || o.Snapshot().StockReturned {
				t.Errorf("partly refunded: status %s, stock returned %v; want Confirmed, false", o.Status(), o.Snapshot().StockReturned)
			}
			request(t, o, "r3", nil, false)
			if !settle(t, o, "r3", true) {
				t.Errorf("the refund completing a restock-requested order: restock = false; want true")
			}
		}
	})
}

func TestSyncProviderRefunds(t *testing.T) {
	type step struct {
		providerTotal int64
		wantChanged   bool
		wantRefunded  int64
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, o *order.Order)
		steps   []step
		wantExt []int64 // amounts of the external refunds at the end
	}{
		{"refund made in the dashboard", nil,
			[]step{{10000, true, 10000}, {10000, false, 10000}}, []int64{10000}},
		{"zero and negative totals", nil,
			[]step{{0, false, 0}, {-5, false, 0}}, nil},
		{"grows twice", nil,
			[]step{{10000, true, 10000}, {25000, true, 25000}, {25000, false, 25000}, {20000, false, 25000}}, []int64{10000, 15000}},
		{"ours already settled", func(t *testing.T, o *order.Order) {
			request(t, o, "r1", usd(t, 10000), false)
			settle(t, o, "r1", true)
		}, []step{{10000, false, 10000}, {5000, false, 10000}, {12000, true, 12000}}, []int64{2000}},
		{"ours pending counts as known", func(t *testing.T, o *order.Order) {
			request(t, o, "r1", usd(t, 10000), false)
		}, []step{{10000, false, 0}, {15000, true, 5000}}, []int64{5000}},
		{"provider above the total is capped", nil,
			[]step{{total * 3, true, total}, {total * 4, false, total}}, []int64{total}},
		{"provider above the total with a full refund pending", func(t *testing.T, o *order.Order) {
			request(t, o, "r1", nil, false)
		}, []step{{total + 1, false, 0}, {total + 1, false, 0}}, nil},
		{"a failed refund of ours does not count", func(t *testing.T, o *order.Order) {
			request(t, o, "r1", usd(t, 10000), false)
			settle(t, o, "r1", false)
		}, []step{{10000, true, 10000}}, []int64{10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := paidCard(t)
			if tt.setup != nil {
				tt.setup(t, o)
			}
			for i, s := range tt.steps {
				n := len(o.Timeline())
				changed, err := o.SyncProviderRefunds("ext"+string(rune('0'+i)), s.providerTotal, order.CauseWebhook("evt_sync"), t2)
				if err != nil || changed != s.wantChanged {
					t.Errorf("step %d: SyncProviderRefunds(%d) = %v, %v; want %v, nil", i, s.providerTotal, changed, err, s.wantChanged)
				}
				if got := refunded(t, o); got != s.wantRefunded {
					t.Errorf("step %d: RefundedAmount = %d; want %d", i, got, s.wantRefunded)
				}
				if got := len(o.Timeline()) > n; got != s.wantChanged {
					t.Errorf("step %d: timeline grew = %v; want %v", i, got, s.wantChanged)
				}
			}
			var ext []int64
			for _, r := range o.Refunds() {
				if r.External {
					if r.Status != order.RefundSucceeded || r.Amount.Currency() != money.USD || r.Amount.Minor() <= 0 {
						t.Errorf("external refund %+v; want a succeeded, positive USD amount", r)
					}
					ext = append(ext, r.Amount.Minor())
				}
			}
			if !reflect.DeepEqual(ext, tt.wantExt) {
				t.Errorf("external refunds = %v; want %v", ext, tt.wantExt)
			}
			if got := refundable(t, o); got < 0 || refunded(t, o) > total {
				t.Errorf("refunded %d of %d, refundable %d", refunded(t, o), total, got)
			}
		})
	}

	t.Run("full refund at the provider", func(t *testing.T) {
		o := paidCard(t)
		if changed, err := o.SyncProviderRefunds("ext", total, order.CauseWebhook("evt_ch"), t2); err != nil || !changed {
			t.Fatalf("SyncProviderRefunds = %v, %v; want true, nil", changed, err)
		}
		if o.Status() != order.StatusRefunded || o.Payment().Status() != payment.StatusRefunded {
			t.Errorf("status %s, payment %s; want Refunded, Refunded", o.Status(), o.Payment().Status())
		}
		r := o.Refunds()[0]
		want := order.Refund{ID: "ext", Amount: *usd(t, total), Status: order.RefundSucceeded, External: true,
			Reason: "refunded at the provider", CreatedAt: t2}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("refund = %+v; want %+v", r, want)
		}
		before := o.Snapshot()
		if changed, err := o.SyncProviderRefunds("ext2", total+1, order.CauseWebhook("evt_ch2"), t2); err != nil || changed {
			t.Errorf("SyncProviderRefunds after full = %v, %v; want false, nil", changed, err)
		}
		unchanged(t, o, before)
		if o.Snapshot().StockReturned {
			t.Errorf("an external refund returned stock; want it left to an admin")
		}
	})
	t.Run("unpaid order", func(t *testing.T) {
		o := placeCard(t)
		before := o.Snapshot()
		if changed, err := o.SyncProviderRefunds("ext", 100, admin, t2); err != nil || changed {
			t.Errorf("SyncProviderRefunds on an unpaid order = %v, %v; want false, nil", changed, err)
		}
		unchanged(t, o, before)
	})
}

// TestSettleRefundLeavesSnapshotAlone: an order restored from a snapshot must not write through
// to the snapshot's slices (in-memory repositories and rollbacks keep snapshots around).
func TestSettleRefundLeavesSnapshotAlone(t *testing.T) {
	o := paidCard(t)
	request(t, o, "r1", nil, false)
	s := o.Snapshot()
	a := order.Restore(s)
	settle(t, a, "r1", true)
	if got := s.Refunds[0].Status; got != order.RefundPending {
		t.Errorf("stored snapshot's refund = %s after settling a restored copy; want pending", got)
	}
	b := order.Restore(s)
	if got := refundable(t, b); got != 0 {
		t.Errorf("second copy Refundable = %d; want 0", got)
	}
	settle(t, b, "r1", true)
	if b.Status() != order.StatusRefunded {
		t.Errorf("second copy status = %s; want Refunded", b.Status())
	}
}

// Operations of FuzzRefundSequence; each takes three bytes: the operation and two argument bytes.
const (
	opRefundFull = iota
	opRefundPart
	opSettleOK
	opSettleFail
	opSync
	opCancel
	opShip
	opRestore
	opCount
)

// FuzzRefundSequence runs arbitrary sequences of refund requests, provider answers, provider
// syncs, cancels, shipments and store round trips against a paid order. Whatever the sequence:
// nothing panics, every refusal is a 4xx fault that changes nothing, the refunded total never
// exceeds the paid total, the order and payment are Refunded exactly when everything went back,
// and the stock goes back at most once — and only with a cancel or a full refund.
func FuzzRefundSequence(f *testing.F) {
	f.Add(false, []byte{opRefundFull, 1, 0, opRefundFull, 1, 0, opSettleOK, 0, 0, opSettleOK, 1, 0, opSync, 0xff, 0xff})
	f.Add(false, []byte{opRefundPart, 0x10, 0x27, opRefundFull, 1, 0, opSettleOK, 1, 0, opSettleFail, 0, 0, opRefundFull, 0, 0, opSettleOK, 2, 0})
	f.Add(true, []byte{opCancel, 1, 0, opRefundFull, 1, 0, opRestore, 0, 0, opSettleOK, 0, 0, opCancel, 1, 0})
	f.Add(false, []byte{opSync, 0x10, 0x27, opSync, 0x10, 0x27, opSync, 0x00, 0x01, opRefundFull, 1, 0, opSync, 0xff, 0xff, opSettleOK, 1, 0})
	f.Add(true, []byte{opShip, 0, 0, opRefundPart, 0, 0, opRefundPart, 0xff, 0xff, opSettleOK, 0, 0, opSettleOK, 7, 0, opCancel, 0, 0})
	f.Fuzz(func(t *testing.T, cash bool, data []byte) {
		var o *order.Order
		if cash {
			o = paidCash(t)
		} else {
			o = paidCard(t)
		}
		if len(data) > 3*64 { // long runs find nothing new and only slow the fuzzer down
			data = data[:3*64]
		}
		var ids []string
		releases := 0
		for step := 0; len(data) >= 3; step, data = step+1, data[3:] {
			op, a, b := data[0]%opCount, data[1], data[2]
			arg := int64(a) | int64(b)<<8
			before := o.Snapshot()
			var err error
			switch op {
			case opRefundFull, opRefundPart:
				id := "r" + strconv.Itoa(step)
				req := order.RefundRequest{ID: id, Restock: a&1 == 1}
				if op == opRefundPart {
					amount := arg & 0x7fff // some part of the total (0.00 to 327.67)
					if b&0x80 != 0 {
						// Around what is left: below, exact, one cent above.
						amount = max(0, refundable(t, o)-int64(a)+int64(b&3)-1)
					}
					req.Amount = usd(t, amount)
				}
				if _, err = o.RequestRefund(req, admin, t1); err == nil {
					ids = append(ids, id)
				}
			case opSettleOK, opSettleFail:
				id := "unknown"
				if i := int(a); i < len(ids) {
					id = ids[i]
				}
				var restock bool
				restock, err = o.SettleRefund(id, "re", op == opSettleOK, admin, t2)
				if restock {
					releases++
					if r := refunded(t, o); r != total {
						t.Fatalf("step %d: stock returned with %d of %d refunded", step, r, total)
					}
				}
			case opSync:
				providerTotal := arg
				if b == 0xff {
					providerTotal = total + int64(a) - 128
				}
				var changed bool
				changed, err = o.SyncProviderRefunds("ext"+strconv.Itoa(step), providerTotal, admin, t2)
				if err == nil {
					after := o.Snapshot()
					if again, err2 := o.SyncProviderRefunds("dup", providerTotal, admin, t2); err2 != nil || again {
						t.Fatalf("step %d: repeated SyncProviderRefunds(%d) = %v, %v; want false, nil (first changed %v)", step, providerTotal, again, err2, changed)
					}
					unchanged(t, o, after)
				}
			case opCancel:
				var release bool
				release, err = o.Cancel(a&1 == 1, admin, t2)
				if release {
					releases++
				}
			case opShip:
				err = o.Ship(admin, t2)
			case opRestore:
				o = order.Restore(o.Snapshot())
			}
			if err != nil {
				f, ok := fault.As(err)
				if !ok || (f.Kind != fault.KindInvalid && f.Kind != fault.KindConflict && f.Kind != fault.KindNotFound) {
					t.Fatalf("step %d op %d: error %v; want a 4xx fault", step, op, err)
				}
				unchanged(t, o, before)
			}

			done := refunded(t, o)
			booked, berr := o.Refundable()
			if berr != nil || done > total || done < 0 || booked.Minor() < 0 {
				t.Fatalf("step %d: refunded %d of %d, refundable %v (%v)", step, done, total, booked, berr)
			}
			full := done == total
			if (o.Payment().Status() == payment.StatusRefunded) != full || (o.Status() == order.StatusRefunded) != full {
				t.Fatalf("step %d: refunded %d of %d but payment %s, order %s", step, done, total, o.Payment().Status(), o.Status())
			}
			if releases > 1 {
				t.Fatalf("step %d: stock returned %d times", step, releases)
			}
			if got := o.Snapshot().StockReturned; got != (releases == 1) {
				t.Fatalf("step %d: StockReturned = %v after %d releases", step, got, releases)
			}
			for _, r := range o.Refunds() {
				if r.Amount.Minor() <= 0 || r.Amount.Currency() != money.USD {
					t.Fatalf("step %d: refund %+v; want a positive USD amount", step, r)
				}
			}
		}
	})
}

// TestCorruptStoredRefunds: refunds that cannot be added up (another currency in storage) are
// reported as errors, never a panic or a silently wrong total.
func TestCorruptStoredRefunds(t *testing.T) {
	s := paidCard(t).Snapshot()
	s.Refunds = []order.Refund{{ID: "r1", Amount: mustMoney(t, 100, money.EUR), Status: order.RefundSucceeded}}
	o := order.Restore(s)
	if _, err := o.RefundedAmount(); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("RefundedAmount = %v; want ErrCurrencyMismatch", err)
	}
	if _, err := o.Refundable(); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("Refundable = %v; want ErrCurrencyMismatch", err)
	}
	if _, err := o.RequestRefund(order.RefundRequest{ID: "r2"}, admin, t1); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("RequestRefund = %v; want ErrCurrencyMismatch", err)
	}
	if changed, err := o.SyncProviderRefunds("ext", 200, admin, t1); !errors.Is(err, money.ErrCurrencyMismatch) || changed {
		t.Errorf("SyncProviderRefunds = %v, %v; want false, ErrCurrencyMismatch", changed, err)
	}
	unchanged(t, o, s)
}
