package order_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

var customer = order.CauseCustomer("c1")

// failedCard places a card order whose payment was declined.
func failedCard(t testing.TB) *order.Order {
	t.Helper()
	o := placeCard(t)
	in := okIntent(o, payment.IntentRequiresPaymentMethod)
	in.LastErrorCode, in.LastErrorMessage = "card_declined", "Your card was declined."
	if out, err := o.ApplyIntent(in, order.CauseWebhook("evt_fail"), t0); err != nil || out != payment.BecameFailed {
		t.Fatalf("ApplyIntent = %v, %v; want BecameFailed", out, err)
	}
	return o
}

func mustDo(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// orderIn builds an order in a named state for the transition tables.
func orderIn(t *testing.T, state string) *order.Order {
	t.Helper()
	switch state {
	case "card pending":
		return placeCard(t)
	case "card failed":
		return failedCard(t)
	case "card paid":
		return paidCard(t)
	case "cash confirmed":
		return place(t, payment.MethodCash)
	case "cash collected":
		return paidCash(t)
	case "cancelled":
		o := placeCard(t)
		_, err := o.Cancel(false, customer, t0)
		mustDo(t, "Cancel", err)
		return o
	case "shipped":
		o := paidCard(t)
		mustDo(t, "Ship", o.Ship(admin, t0))
		return o
	case "delivered":
		o := paidCard(t)
		mustDo(t, "Ship", o.Ship(admin, t0))
		mustDo(t, "Deliver", o.Deliver(admin, t0))
		return o
	case "cash delivered":
		o := place(t, payment.MethodCash)
		mustDo(t, "Ship", o.Ship(admin, t0))
		mustDo(t, "Deliver", o.Deliver(admin, t0))
		return o
	case "refunded":
		o := paidCard(t)
		request(t, o, "r1", nil, false)
		settle(t, o, "r1", true)
		return o
	case "partly refunded":
		o := paidCard(t)
		request(t, o, "r1", usd(t, 100), false)
		settle(t, o, "r1", true)
		return o
	}
	t.Fatalf("unknown state %q", state)
	return nil
}

func TestCancel(t *testing.T) {
	tests := []struct {
		state      string
		byAdmin    bool
		wantErr    error
		wantStatus order.Status
	}{
		{"card pending", false, nil, order.StatusCancelled},
		{"card pending", true, nil, order.StatusCancelled},
		{"card failed", false, nil, order.StatusCancelled},
		{"cash confirmed", false, nil, order.StatusCancelled},
		{"cash confirmed", true, nil, order.StatusCancelled},
		{"card paid", false, order.ErrPaidCancel, order.StatusConfirmed},
		{"card paid", true, nil, order.StatusCancelled},
		{"partly refunded", false, order.ErrPaidCancel, order.StatusConfirmed},
		{"partly refunded", true, nil, order.StatusCancelled},
		{"cash collected", false, order.ErrPaidCancel, order.StatusConfirmed},
		{"cash collected", true, nil, order.StatusCancelled},
		{"shipped", false, order.ErrNotCancellable, order.StatusShipped},
		{"shipped", true, order.ErrNotCancellable, order.StatusShipped},
		{"delivered", true, order.ErrNotCancellable, order.StatusDelivered},
		{"cash delivered", false, order.ErrNotCancellable, order.StatusDelivered},
		{"refunded", true, order.ErrNotCancellable, order.StatusRefunded},
		{"refunded", false, order.ErrNotCancellable, order.StatusRefunded},
	}
	for _, tt := range tests {
		who := map[bool]string{false: "customer", true: "admin"}[tt.byAdmin]
		t.Run(tt.state+" by "+who, func(t *testing.T) {
			o := orderIn(t, tt.state)
			before := o.Snapshot()
			cause := customer
			if tt.byAdmin {
				cause = admin
			}
			release, err := o.Cancel(tt.byAdmin, cause, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Cancel = %v; want %v", err, tt.wantErr)
			}
			if got := o.Status(); got != tt.wantStatus {
				t.Errorf("Status = %s; want %s", got, tt.wantStatus)
			}
			if tt.wantErr != nil {
				if f, ok := fault.As(err); !ok || f.Kind != fault.KindConflict {
					t.Errorf("error %v; want a conflict fault", err)
				}
				if release {
					t.Errorf("refused Cancel released stock")
				}
				unchanged(t, o, before)
				return
			}
			if !release {
				t.Errorf("Cancel release = false; want true the first time")
			}
			want := order.Change{At: t1, Type: order.ChangeCancelled, From: string(before.Status), To: "Cancelled", Cause: cause}
			if got := o.NewChanges(); len(got) == 0 || got[len(got)-1] != want {
				t.Errorf("NewChanges = %+v; want it to end with %+v", got, want)
			}
			if o.Payment().Status() != before.Payment.Status {
				t.Errorf("payment %s → %s; Cancel must leave the payment to the caller", before.Payment.Status, o.Payment().Status())
			}
			// Cancelling again, by anyone, changes nothing and releases nothing.
			after := o.Snapshot()
			for _, byAdmin := range []bool{false, true} {
				if release, err := o.Cancel(byAdmin, cause, t2); err != nil || release {
					t.Errorf("second Cancel(admin %v) = %v, %v; want false, nil", byAdmin, release, err)
				}
			}
			unchanged(t, o, after)
		})
	}
}

func TestShip(t *testing.T) {
	tests := []struct {
		state   string
		wantErr error
	}{
		{"card pending", order.ErrNotShippable},
		{"card failed", order.ErrNotShippable},
		{"card paid", nil},
		{"partly refunded", nil},
		{"cash confirmed", nil},
		{"cash collected", nil},
		{"cancelled", order.ErrNotShippable},
		{"delivered", order.ErrNotShippable},
		{"refunded", order.ErrNotShippable},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			o := orderIn(t, tt.state)
			before := o.Snapshot()
			err := o.Ship(admin, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Ship = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				unchanged(t, o, before)
				return
			}
			if o.Status() != order.StatusShipped {
				t.Errorf("Status = %s; want Shipped", o.Status())
			}
			want := order.Change{At: t1, Type: order.ChangeShipped, From: "Confirmed", To: "Shipped", Cause: admin}
			if got := o.Timeline(); got[len(got)-1] != want {
				t.Errorf("last change = %+v; want %+v", got[len(got)-1], want)
			}
			after := o.Snapshot()
			if err := o.Ship(admin, t2); err != nil {
				t.Errorf("second Ship = %v; want nil", err)
			}
			unchanged(t, o, after)
		})
	}
}

func TestDeliver(t *testing.T) {
	tests := []struct {
		state   string
		wantErr error
	}{
		{"card pending", order.ErrNotDeliverable},
		{"card paid", order.ErrNotDeliverable},
		{"cash confirmed", order.ErrNotDeliverable},
		{"cancelled", order.ErrNotDeliverable},
		{"refunded", order.ErrNotDeliverable},
		{"shipped", nil},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			o := orderIn(t, tt.state)
			before := o.Snapshot()
			err := o.Deliver(admin, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Deliver = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				unchanged(t, o, before)
				return
			}
			want := order.Change{At: t1, Type: order.ChangeDelivered, From: "Shipped", To: "Delivered", Cause: admin}
			if got := o.Timeline(); o.Status() != order.StatusDelivered || got[len(got)-1] != want {
				t.Errorf("Status %s, last change %+v; want Delivered, %+v", o.Status(), got[len(got)-1], want)
			}
			after := o.Snapshot()
			if err := o.Deliver(admin, t2); err != nil {
				t.Errorf("second Deliver = %v; want nil", err)
			}
			unchanged(t, o, after)
		})
	}
}

// TestCashOnDeliveryLifecycle walks a cash order through delivery, collection and a refund.
func TestCashOnDeliveryLifecycle(t *testing.T) {
	o := place(t, payment.MethodCash)
	if _, err := o.RequestRefund(order.RefundRequest{ID: "r0"}, admin, t0); !errors.Is(err, order.ErrRefundUnpaid) {
		t.Errorf("refund before the cash is collected = %v; want ErrRefundUnpaid", err)
	}
	mustDo(t, "Ship", o.Ship(admin, t0))
	mustDo(t, "Deliver", o.Deliver(admin, t1))
	if out, err := o.CollectCash(admin, t1); err != nil || out != payment.BecamePaid {
		t.Fatalf("CollectCash = %v, %v; want BecamePaid", out, err)
	}
	if o.Status() != order.StatusDelivered || o.Payment().Status() != payment.StatusPaid {
		t.Errorf("status %s, payment %s; want Delivered, Paid", o.Status(), o.Payment().Status())
	}
	request(t, o, "r1", nil, true)
	if !settle(t, o, "r1", true) {
		t.Errorf("restock of a returned delivery = false; want true")
	}
	want := order.Change{At: t2, Type: order.ChangeFullyRefunded, From: "Delivered", To: "Refunded", Cause: "webhook evt_r1"}
	if got := o.Timeline(); got[len(got)-1] != want {
		t.Errorf("last change = %+v; want %+v", got[len(got)-1], want)
	}
}

func TestSoldEntirelyBy(t *testing.T) {
	sold := func(id, seller string) order.Line {
		return order.Line{Product: catalog.Restore(id, seller, "Product "+id, mustMoney(t, 100, money.USD), 10, "", t0, t0), Quantity: 1}
	}
	placeWith := func(ls ...order.Line) *order.Order {
		o, err := order.Place(params(t, payment.MethodCash, ls...))
		if err != nil {
			t.Fatalf("Place: %v", err)
		}
		return o
	}
	tests := []struct {
		name   string
		lines  []order.Line
		seller string
		want   bool
	}{
		{"one item, its seller", []order.Line{sold("p1", "s1")}, "s1", true},
		{"one item, another seller", []order.Line{sold("p1", "s1")}, "s2", false},
		{"two items, one seller", []order.Line{sold("p1", "s1"), sold("p2", "s1")}, "s1", true},
		{"mixed, first seller", []order.Line{sold("p1", "s1"), sold("p2", "s2")}, "s1", false},
		{"mixed, second seller", []order.Line{sold("p1", "s1"), sold("p2", "s2")}, "s2", false},
		{"mixed, last item differs", []order.Line{sold("p1", "s1"), sold("p2", "s1"), sold("p3", "s3")}, "s1", false},
		{"empty seller id", []order.Line{sold("p1", "s1")}, "", false},
		{"empty seller id on items without a seller", []order.Line{sold("p1", "")}, "", false},
		{"case matters", []order.Line{sold("p1", "s1")}, "S1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := placeWith(tt.lines...).SoldEntirelyBy(tt.seller); got != tt.want {
				t.Errorf("SoldEntirelyBy(%q) = %v; want %v", tt.seller, got, tt.want)
			}
		})
	}
	if got := order.Restore(order.Snapshot{}).SoldEntirelyBy("s1"); got {
		t.Errorf("SoldEntirelyBy on an order without items = true; want false")
	}
}

func TestRecordDispute(t *testing.T) {
	amount := mustMoney(t, total, money.USD)
	type event struct {
		status      string
		closed      bool
		wantChanged bool
		wantStatus  string
		wantClosed  bool
	}
	tests := []struct {
		name   string
		events []event
	}{
		{"opened, reviewed, won", []event{
			{"needs_response", false, true, "needs_response", false},
			{"needs_response", false, false, "needs_response", false},
			{"under_review", false, true, "under_review", false},
			{"won", true, true, "won", true},
			{"won", true, false, "won", true},
		}},
		{"late created after closed does not reopen", []event{
			{"needs_response", false, true, "needs_response", false},
			{"lost", true, true, "lost", true},
			{"needs_response", false, false, "lost", true},
			{"under_review", false, false, "lost", true},
		}},
		{"closed first, created late", []event{
			{"won", true, true, "won", true},
			{"needs_response", false, false, "won", true},
		}},
		// charge.dispute.updated "lost" can arrive before charge.dispute.closed "lost": the closing
		// event must still close it, or the late "created" would reopen it.
		{"closed with the status of the last update", []event{
			{"needs_response", false, true, "needs_response", false},
			{"lost", false, true, "lost", false},
			{"lost", true, true, "lost", true},
			{"needs_response", false, false, "lost", true},
			{"lost", true, false, "lost", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := paidCard(t)
			if o.Dispute() != nil {
				t.Fatalf("Dispute on a new order = %+v; want nil", o.Dispute())
			}
			prev := ""
			for i, e := range tt.events {
				n := len(o.Timeline())
				d := order.Dispute{Status: e.status, Reason: "fraudulent", Amount: amount}
				if i == 0 {
					d.OpenedAt = t1
				}
				changed := o.RecordDispute(d, e.closed, order.CauseWebhook("evt_d"), t2)
				if changed != e.wantChanged {
					t.Errorf("event %d (%s, closed %v): changed = %v; want %v", i, e.status, e.closed, changed, e.wantChanged)
				}
				got := o.Dispute()
				if got == nil || got.Status != e.wantStatus || o.Snapshot().DisputeClosed != e.wantClosed {
					t.Fatalf("event %d: dispute %+v closed %v; want %s closed %v", i, got, o.Snapshot().DisputeClosed, e.wantStatus, e.wantClosed)
				}
				if !got.OpenedAt.Equal(t1) {
					t.Errorf("event %d: OpenedAt = %v; want the first event's %v", i, got.OpenedAt, t1)
				}
				tl := o.Timeline()
				if !changed {
					if len(tl) != n {
						t.Errorf("event %d: no change but the timeline grew", i)
					}
					continue
				}
				want := order.Change{At: t2, Type: order.ChangeDisputed, From: prev, To: e.status, Cause: "webhook evt_d"}
				if len(tl) != n+1 || tl[n] != want {
					t.Errorf("event %d: timeline tail = %+v; want one %+v", i, tl[n:], want)
				}
				prev = e.status
			}
			if o.Status() != order.StatusConfirmed || o.Payment().Status() != payment.StatusPaid {
				t.Errorf("a dispute moved the order: %s / %s", o.Status(), o.Payment().Status())
			}
		})
	}
	t.Run("Dispute returns a copy", func(t *testing.T) {
		o := paidCard(t)
		o.RecordDispute(order.Dispute{Status: "needs_response", Amount: amount}, false, admin, t1)
		o.Dispute().Status = "changed"
		if got := o.Dispute().Status; got != "needs_response" {
			t.Errorf("Dispute().Status = %q after changing a copy; want needs_response", got)
		}
	})
}

func TestSnapshotRestoreRefundsDisputeStock(t *testing.T) {
	o := paidCard(t)
	request(t, o, "r1", usd(t, 10000), false)
	settle(t, o, "r1", true)
	request(t, o, "r2", usd(t, 5000), false)
	settle(t, o, "r2", false)
	request(t, o, "r3", usd(t, 1000), false) // left pending
	if _, err := o.SyncProviderRefunds("ext", 12000, order.CauseWebhook("evt_ch"), t2); err != nil {
		t.Fatal(err)
	}
	o.RecordDispute(order.Dispute{Status: "won", Reason: "fraudulent", Amount: *usd(t, 10000), OpenedAt: t1}, true, order.CauseWebhook("evt_d"), t2)
	if release, err := o.Cancel(true, admin, t2); err != nil || !release {
		t.Fatalf("Cancel = %v, %v; want true, nil", release, err)
	}

	s := o.Snapshot()
	if !s.StockReturned || !s.DisputeClosed || len(s.Refunds) != 4 || s.Dispute == nil {
		t.Fatalf("snapshot lacks state: %+v", s)
	}
	r := order.Restore(s)
	if got := r.Snapshot(); !reflect.DeepEqual(got, s) {
		t.Errorf("Restore(s).Snapshot():\n got %+v\nwant %+v", got, s)
	}
	if got := r.NewChanges(); len(got) != 0 {
		t.Errorf("NewChanges after Restore = %+v; want none", got)
	}
	for _, check := range []struct {
		name      string
		got, want int64
	}{
		{"RefundedAmount", refunded(t, r), refunded(t, o)},
		{"Refundable", refundable(t, r), refundable(t, o)},
	} {
		if check.got != check.want {
			t.Errorf("restored %s = %d; want %d", check.name, check.got, check.want)
		}
	}
	// The restored order remembers what already happened.
	if release, err := r.Cancel(true, admin, t2); err != nil || release {
		t.Errorf("Cancel after Restore = %v, %v; want false, nil", release, err)
	}
	if r.RecordDispute(order.Dispute{Status: "needs_response"}, false, admin, t2) {
		t.Errorf("a late dispute event reopened a restored closed dispute")
	}
	request(t, r, "r4", nil, true)
	if settle(t, r, "r4", true) {
		t.Errorf("restored order returned its stock a second time")
	}
	if settle(t, r, "r3", true) {
		// r3 completes the full refund now; stock was returned by Cancel already.
		t.Errorf("settling r3 returned stock a second time")
	}
	if got := refunded(t, r); got != total || r.Status() != order.StatusRefunded {
		t.Errorf("refunded %d, status %s; want %d, Refunded", got, r.Status(), total)
	}
	if got := len(r.NewChanges()); got == 0 {
		t.Errorf("NewChanges after changes on a restored order = 0; want some")
	}
}
