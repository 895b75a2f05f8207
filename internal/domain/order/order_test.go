package order_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestPlaceCardIsPending(t *testing.T) {
	o := place(t, payment.MethodCard)
	if o.Status() != order.StatusPending {
		t.Errorf("Status = %s; want Pending", o.Status())
	}
	p := o.Payment()
	if p.Method() != payment.MethodCard || p.Status() != payment.StatusPending || p.Provider() != "" || p.ID() != "pay1" {
		t.Errorf("payment = %+v; want pending card payment pay1", p.Snapshot())
	}
	if got, want := o.Total().Decimal(), "459.98"; got != want {
		t.Errorf("Total = %s; want %s", got, want)
	}
	if p.Amount() != o.Total() {
		t.Errorf("payment amount = %v; want the total %v", p.Amount(), o.Total())
	}
	want := []order.Change{{At: t0, Type: order.ChangePlaced, From: "", To: "Pending", Cause: "customer c1"}}
	if got := o.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline = %+v; want %+v", got, want)
	}
	if o.ID() != "o1" || o.Number() != "WX-1" || o.CustomerID() != "c1" || o.DeliveryFee().Minor() != 700 ||
		!o.CreatedAt().Equal(t0) || !o.UpdatedAt().Equal(t0) || o.Version() != 0 {
		t.Errorf("order header = %+v; want o1/WX-1/c1/7.00/%v", o.Snapshot(), t0)
	}
	wantItems := []order.Item{{ProductID: "p1", Title: "Product p1", SellerID: "seller-p1",
		UnitPrice: mustMoney(t, 22649, money.USD), Quantity: 2}}
	if got := o.Items(); !reflect.DeepEqual(got, wantItems) {
		t.Errorf("Items = %+v; want %+v", got, wantItems)
	}
}

func TestPlaceCashIsConfirmed(t *testing.T) {
	o := place(t, payment.MethodCash)
	if o.Status() != order.StatusConfirmed {
		t.Errorf("Status = %s; want Confirmed", o.Status())
	}
	if p := o.Payment(); p.Method() != payment.MethodCash || p.Status() != payment.StatusPending || p.Provider() != payment.ProviderCash {
		t.Errorf("payment = %+v; want pending cash payment", p.Snapshot())
	}
	want := []order.Change{
		{At: t0, Type: order.ChangePlaced, From: "", To: "Pending", Cause: "customer c1"},
		{At: t0, Type: order.ChangeConfirmed, From: "Pending", To: "Confirmed", Cause: "customer c1"},
	}
	if got := o.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline = %+v; want %+v", got, want)
	}
	if got := o.NewChanges(); !reflect.DeepEqual(got, want) {
		t.Errorf("NewChanges = %+v; want %+v", got, want)
	}
}

func TestPlaceTotals(t *testing.T) {
	tests := []struct {
		name  string
		cur   money.Currency
		fee   int64
		lines [][2]int64 // price, quantity
		want  string
	}{
		{"seed example", money.USD, 700, [][2]int64{{22649, 2}}, "459.98"},
		{"no fee", money.USD, 0, [][2]int64{{1, 1}}, "0.01"},
		{"several lines", money.USD, 350, [][2]int64{{199, 3}, {1000, 1}, {5, 1000}}, "69.47"},
		{"yen", money.JPY, 500, [][2]int64{{1200, 3}, {80, 10}}, "4900"},
		{"dinar", money.BHD, 1500, [][2]int64{{1234, 2}, {5, 7}}, "4.003"},
		{"at the int64 limit", money.JPY, 7, [][2]int64{{math.MaxInt64 / 1000, 1000}}, "9223372036854775007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ls []order.Line
			for i, l := range tt.lines {
				ls = append(ls, order.Line{Product: product(string(rune('a'+i)), mustMoney(t, l[0], tt.cur)), Quantity: l[1]})
			}
			p := params(t, payment.MethodCard, ls...)
			p.DeliveryFee = mustMoney(t, tt.fee, tt.cur)
			o, err := order.Place(p)
			if err != nil {
				t.Fatalf("Place error = %v; want nil", err)
			}
			if got := o.Total(); got.Decimal() != tt.want || got.Currency() != tt.cur {
				t.Errorf("Total = %v; want %s %s", got, tt.want, tt.cur)
			}
			var sum int64 = tt.fee
			for _, it := range o.Items() {
				sub, err := it.Subtotal()
				if err != nil {
					t.Fatal(err)
				}
				sum += sub.Minor()
			}
			if sum != o.Total().Minor() {
				t.Errorf("Σ subtotals + fee = %d; want the total %d", sum, o.Total().Minor())
			}
		})
	}
}

func TestPlaceRefuses(t *testing.T) {
	usd := func(minor int64) money.Money { return mustMoney(t, minor, money.USD) }
	p1, p2 := product("p1", usd(100)), product("p2", usd(100))
	tests := []struct {
		name    string
		mod     func(*order.PlaceParams)
		wantErr error
	}{
		{"no customer", func(p *order.PlaceParams) { p.CustomerID = "" }, order.ErrCustomerNeeded},
		{"no method", func(p *order.PlaceParams) { p.Method = "" }, fault.Invalid("payment_method_invalid", "")},
		{"unknown method", func(p *order.PlaceParams) { p.Method = "crypto" }, fault.Invalid("payment_method_invalid", "")},
		{"bad recipient", func(p *order.PlaceParams) { p.Recipient.PhoneNumber = "0501234567" }, order.ErrRecipientInvalid},
		{"bad delivery", func(p *order.PlaceParams) { p.Delivery.Method = "drone" }, order.ErrDeliveryInvalid},
		{"branch without number", func(p *order.PlaceParams) { p.Delivery.Method = order.DeliveryBranch }, order.ErrBranchNumberMissing},
		{"no lines", func(p *order.PlaceParams) { p.Lines = nil }, order.ErrNoItems},
		{"empty lines", func(p *order.PlaceParams) { p.Lines = []order.Line{} }, order.ErrNoItems},
		{"101 lines", func(p *order.PlaceParams) { p.Lines = lines(t, order.MaxLines+1, money.USD) }, order.ErrTooManyItems},
		{"quantity 0", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: 0}} }, order.ErrQuantityInvalid},
		{"quantity -1", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: -1}} }, order.ErrQuantityInvalid},
		{"quantity min int64", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: math.MinInt64}} }, order.ErrQuantityInvalid},
		{"quantity 1001", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: 1001}} }, order.ErrQuantityInvalid},
		{"quantity max int64", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: math.MaxInt64}} }, order.ErrQuantityInvalid},
		{"bad quantity on a later line", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: p1, Quantity: 1}, {Product: p2, Quantity: 1001}}
		}, order.ErrQuantityInvalid},
		{"duplicate product", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: p1, Quantity: 1}, {Product: p2, Quantity: 1}, {Product: product("p1", usd(100)), Quantity: 2}}
		}, order.ErrDuplicateProduct},
		{"product in another currency", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: p1, Quantity: 1}, {Product: product("p3", mustMoney(t, 100, money.EUR)), Quantity: 1}}
		}, order.ErrMixedCurrencies},
		{"fee in another currency", func(p *order.PlaceParams) { p.DeliveryFee = mustMoney(t, 700, money.UAH) }, order.ErrMixedCurrencies},
		{"fee without currency", func(p *order.PlaceParams) { p.DeliveryFee = money.Money{} }, order.ErrMixedCurrencies},
		{"nil product", func(p *order.PlaceParams) { p.Lines = []order.Line{{Product: p1, Quantity: 1}, {Quantity: 1}} }, catalog.ErrNotFound},
		{"line overflows", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: product("big", usd(math.MaxInt64/2+1)), Quantity: 2}}
		}, money.ErrOverflow},
		{"max price times 1000", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: product("big", usd(math.MaxInt64)), Quantity: 1000}}
		}, money.ErrOverflow},
		{"fee tips the total over", func(p *order.PlaceParams) {
			p.Lines = []order.Line{{Product: product("big", usd(math.MaxInt64-699)), Quantity: 1}}
		}, money.ErrOverflow},
		{"lines overflow together", func(p *order.PlaceParams) {
			p.DeliveryFee = usd(0)
			p.Lines = []order.Line{{Product: product("a", usd(math.MaxInt64/2)), Quantity: 1},
				{Product: product("b", usd(math.MaxInt64/2)), Quantity: 1}, {Product: product("c", usd(2)), Quantity: 1}}
		}, money.ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params(t, payment.MethodCard, order.Line{Product: p1, Quantity: 1})
			tt.mod(&p)
			o, err := order.Place(p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Place error = %v; want %v", err, tt.wantErr)
			}
			if o != nil {
				t.Errorf("Place on error = %+v; want nil", o.Snapshot())
			}
			if f, ok := fault.As(err); !ok || (f.Kind != fault.KindInvalid && f.Kind != fault.KindNotFound && f.Kind != fault.KindUnauthenticated) {
				t.Errorf("error = %v; want a 4xx-kind fault", err)
			}
		})
	}
}

func TestPlaceLimitsAccepted(t *testing.T) {
	p := params(t, payment.MethodCash, lines(t, order.MaxLines, money.USD)...)
	p.Lines[0].Quantity = order.MaxQuantity
	o, err := order.Place(p)
	if err != nil {
		t.Fatalf("Place(100 lines, quantity 1000) error = %v; want nil", err)
	}
	if got, want := o.Total().Minor(), int64(700+100*1000+99*100); got != want {
		t.Errorf("Total = %d; want %d", got, want)
	}
}

func TestPlaceNormalizesRecipientAndDelivery(t *testing.T) {
	p := params(t, payment.MethodCard, order.Line{Product: product("p1", mustMoney(t, 1, money.USD)), Quantity: 1})
	p.Recipient = order.Recipient{FirstName: " Olena ", LastName: "Koval\t", MiddleName: "  ",
		PhoneNumber: " +380501234567 ", Email: " olena@example.com "}
	p.Delivery = order.Delivery{Method: order.DeliveryBranch, City: " Lviv ", BranchNumber: " 12 "}
	o, err := order.Place(p)
	if err != nil {
		t.Fatal(err)
	}
	wantR := order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567", Email: "olena@example.com"}
	if got := o.Recipient(); got != wantR {
		t.Errorf("Recipient = %+v; want %+v", got, wantR)
	}
	wantD := order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "12"}
	if got := o.Delivery(); got != wantD {
		t.Errorf("Delivery = %+v; want %+v", got, wantD)
	}
}

func TestApplyIntentConfirmsPendingOrder(t *testing.T) {
	o := placeCard(t)
	cause := order.CauseWebhook("evt_1")
	out, err := o.ApplyIntent(okIntent(o, payment.IntentSucceeded), cause, t1)
	if err != nil || out != payment.BecamePaid {
		t.Fatalf("ApplyIntent = %v, %v; want BecamePaid, nil", out, err)
	}
	if o.Status() != order.StatusConfirmed || !o.Payment().IsPaid() || !o.UpdatedAt().Equal(t1) {
		t.Errorf("order %s, payment %s, updated %v; want Confirmed, Paid, %v", o.Status(), o.Payment().Status(), o.UpdatedAt(), t1)
	}
	want := []order.Change{
		{At: t0, Type: order.ChangePlaced, From: "", To: "Pending", Cause: "customer c1"},
		{At: t1, Type: order.ChangePaymentSucceeded, From: "Pending", To: "Paid", Cause: "webhook evt_1"},
		{At: t1, Type: order.ChangeConfirmed, From: "Pending", To: "Confirmed", Cause: "webhook evt_1"},
	}
	if got := o.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline = %+v; want %+v", got, want)
	}
	if err := o.RequirePaid(); err != nil {
		t.Errorf("RequirePaid = %v; want nil", err)
	}

	// A duplicate and a late failure change nothing.
	for _, in := range []payment.Intent{okIntent(o, payment.IntentSucceeded), failedIntent(o, "card_declined"), okIntent(o, payment.IntentCanceled)} {
		if out, err := o.ApplyIntent(in, order.CauseReconciler, t2); err != nil || out != payment.Unchanged {
			t.Errorf("late %s = %v, %v; want Unchanged, nil", in.Status, out, err)
		}
	}
	if got := o.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline after duplicates = %+v; want %+v", got, want)
	}
	if !o.UpdatedAt().Equal(t1) {
		t.Errorf("UpdatedAt = %v; want %v", o.UpdatedAt(), t1)
	}
}

func failedIntent(o *order.Order, code string) payment.Intent {
	in := okIntent(o, payment.IntentRequiresPaymentMethod)
	in.LastErrorCode, in.LastErrorMessage = code, "message for "+code
	return in
}

func TestApplyIntentFailedThenPaidOnRetry(t *testing.T) {
	o := placeCard(t)
	out, err := o.ApplyIntent(failedIntent(o, "card_declined"), order.CauseWebhook("evt_1"), t1)
	if err != nil || out != payment.BecameFailed {
		t.Fatalf("ApplyIntent(failed) = %v, %v; want BecameFailed, nil", out, err)
	}
	if o.Status() != order.StatusPending || o.Payment().Status() != payment.StatusFailed || o.Payment().FailureCode() != "card_declined" {
		t.Errorf("after failure: order %s, payment %s %q; want Pending, Failed card_declined", o.Status(), o.Payment().Status(), o.Payment().FailureCode())
	}
	if err := o.RequirePaid(); !errors.Is(err, payment.ErrNotCompleted) {
		t.Errorf("RequirePaid after failure = %v; want %v", err, payment.ErrNotCompleted)
	}
	out, err = o.ApplyIntent(okIntent(o, payment.IntentSucceeded), order.CauseClientConfirm("c1"), t2)
	if err != nil || out != payment.BecamePaid {
		t.Fatalf("ApplyIntent(retry succeeded) = %v, %v; want BecamePaid, nil", out, err)
	}
	want := []order.Change{
		{At: t0, Type: order.ChangePlaced, From: "", To: "Pending", Cause: "customer c1"},
		{At: t1, Type: order.ChangePaymentFailed, From: "Pending", To: "Failed", Cause: "webhook evt_1"},
		{At: t2, Type: order.ChangePaymentSucceeded, From: "Failed", To: "Paid", Cause: "confirm by c1"},
		{At: t2, Type: order.ChangeConfirmed, From: "Pending", To: "Confirmed", Cause: "confirm by c1"},
	}
	if got := o.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline = %+v; want %+v", got, want)
	}
}

func TestApplyIntentRefusalChangesNothing(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*payment.Intent)
		wantErr error
	}{
		{"amount", func(in *payment.Intent) { in.Amount-- }, payment.ErrAmountMismatch},
		{"currency", func(in *payment.Intent) { in.Currency = "eur" }, payment.ErrAmountMismatch},
		{"order id", func(in *payment.Intent) { in.OrderID = "o2" }, payment.ErrOrderMismatch},
		{"intent id", func(in *payment.Intent) { in.ID = "pi_2" }, payment.ErrOrderMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := placeCard(t)
			before := o.Snapshot()
			in := okIntent(o, payment.IntentSucceeded)
			tt.mod(&in)
			out, err := o.ApplyIntent(in, order.CauseWebhook("evt_x"), t1)
			if !errors.Is(err, tt.wantErr) || out != payment.Unchanged {
				t.Fatalf("ApplyIntent = %v, %v; want Unchanged, %v", out, err, tt.wantErr)
			}
			if got := o.Snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("order = %+v; want unchanged %+v", got, before)
			}
			if got := o.NewChanges(); len(got) != 1 {
				t.Errorf("NewChanges = %+v; want only the placement", got)
			}
		})
	}
}

func TestApplyIntentBeforeAttachIsRefused(t *testing.T) {
	o := place(t, payment.MethodCard)
	in := okIntent(o, payment.IntentSucceeded)
	in.ID = ""
	if out, err := o.ApplyIntent(in, order.CauseReconciler, t1); !errors.Is(err, payment.ErrOrderMismatch) || out != payment.Unchanged {
		t.Errorf("ApplyIntent before AttachIntent = %v, %v; want Unchanged, %v", out, err, payment.ErrOrderMismatch)
	}
	if o.Status() != order.StatusPending || o.Payment().IsPaid() {
		t.Errorf("order %s payment %s; want Pending/Pending", o.Status(), o.Payment().Status())
	}
}

func TestApplyIntentCanceledLeavesOrderToTheApp(t *testing.T) {
	o := placeCard(t)
	out, err := o.ApplyIntent(okIntent(o, payment.IntentCanceled), order.CauseReconciler, t1)
	if err != nil || out != payment.WasCanceled {
		t.Fatalf("ApplyIntent(canceled) = %v, %v; want WasCanceled, nil", out, err)
	}
	if o.Status() != order.StatusPending || len(o.Timeline()) != 1 {
		t.Errorf("order %s with %d changes; want Pending with 1", o.Status(), len(o.Timeline()))
	}
}

func TestApplyIntentOnCashOrder(t *testing.T) {
	o := place(t, payment.MethodCash)
	if out, err := o.ApplyIntent(okIntent(o, payment.IntentSucceeded), order.CauseReconciler, t1); !errors.Is(err, payment.ErrNotCard) || out != payment.Unchanged {
		t.Errorf("ApplyIntent on cash order = %v, %v; want Unchanged, %v", out, err, payment.ErrNotCard)
	}
	if err := o.AttachIntent("sandbox", "pi_1"); !errors.Is(err, payment.ErrNotCard) {
		t.Errorf("AttachIntent on cash order = %v; want %v", err, payment.ErrNotCard)
	}
}

// A payment that succeeds after the order was cancelled is recorded (the money moved) but does not
// revive the order; the application refunds it.
func TestApplyIntentOnCancelledOrder(t *testing.T) {
	s := placeCard(t).Snapshot()
	s.Status = order.StatusCancelled
	o := order.Restore(s)
	out, err := o.ApplyIntent(okIntent(o, payment.IntentSucceeded), order.CauseWebhook("evt_9"), t1)
	if err != nil || out != payment.BecamePaid {
		t.Fatalf("ApplyIntent = %v, %v; want BecamePaid, nil", out, err)
	}
	if o.Status() != order.StatusCancelled {
		t.Errorf("Status = %s; want Cancelled", o.Status())
	}
	want := []order.Change{{At: t1, Type: order.ChangePaymentSucceeded, From: "Pending", To: "Paid", Cause: "webhook evt_9"}}
	if got := o.NewChanges(); !reflect.DeepEqual(got, want) {
		t.Errorf("NewChanges = %+v; want %+v", got, want)
	}
}

func TestCollectCash(t *testing.T) {
	o := place(t, payment.MethodCash)
	if err := o.RequirePaid(); !errors.Is(err, payment.ErrNotCompleted) {
		t.Errorf("RequirePaid before collection = %v; want %v", err, payment.ErrNotCompleted)
	}
	out, err := o.CollectCash(order.CauseAdmin("a1"), t1)
	if err != nil || out != payment.BecamePaid {
		t.Fatalf("CollectCash = %v, %v; want BecamePaid, nil", out, err)
	}
	if err := o.RequirePaid(); err != nil {
		t.Errorf("RequirePaid = %v; want nil", err)
	}
	wantLast := order.Change{At: t1, Type: order.ChangePaymentSucceeded, From: "Pending", To: "Paid", Cause: "admin a1"}
	tl := o.Timeline()
	if len(tl) != 3 || tl[2] != wantLast {
		t.Errorf("Timeline = %+v; want 3 changes ending with %+v", tl, wantLast)
	}
	if o.Status() != order.StatusConfirmed {
		t.Errorf("Status = %s; want Confirmed", o.Status())
	}
	out, err = o.CollectCash(order.CauseAdmin("a1"), t2)
	if err != nil || out != payment.Unchanged || len(o.Timeline()) != 3 || !o.UpdatedAt().Equal(t1) {
		t.Errorf("second CollectCash = %v, %v, %d changes, updated %v; want Unchanged, nil, 3, %v", out, err, len(o.Timeline()), o.UpdatedAt(), t1)
	}
}

func TestCollectCashRefused(t *testing.T) {
	tests := []struct {
		name    string
		o       func(t *testing.T) *order.Order
		wantErr error
	}{
		{"cancelled", func(t *testing.T) *order.Order {
			return withStatus(place(t, payment.MethodCash), order.StatusCancelled)
		}, order.ErrTransition},
		{"refunded", func(t *testing.T) *order.Order { return withStatus(place(t, payment.MethodCash), order.StatusRefunded) }, order.ErrTransition},
		{"card order", func(t *testing.T) *order.Order { return placeCard(t) }, payment.ErrNotCash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o(t)
			before := o.Snapshot()
			out, err := o.CollectCash(order.CauseAdmin("a1"), t1)
			if !errors.Is(err, tt.wantErr) || out != payment.Unchanged {
				t.Fatalf("CollectCash = %v, %v; want Unchanged, %v", out, err, tt.wantErr)
			}
			if got := o.Snapshot(); !reflect.DeepEqual(got, before) {
				t.Errorf("order = %+v; want unchanged", got)
			}
		})
	}
}

func TestCollectCashWhenShippedOrDelivered(t *testing.T) {
	for _, st := range []order.Status{order.StatusShipped, order.StatusDelivered} {
		o := withStatus(place(t, payment.MethodCash), st)
		if out, err := o.CollectCash(order.CauseAdmin("a1"), t1); err != nil || out != payment.BecamePaid || o.Status() != st {
			t.Errorf("CollectCash on %s = %v, %v, %s; want BecamePaid, nil, %s", st, out, err, o.Status(), st)
		}
	}
}

func withStatus(o *order.Order, st order.Status) *order.Order {
	s := o.Snapshot()
	s.Status = st
	return order.Restore(s)
}

func TestRequirePaid(t *testing.T) {
	tests := []struct {
		status  payment.Status
		wantErr error
	}{
		{payment.StatusPending, payment.ErrNotCompleted},
		{payment.StatusFailed, payment.ErrNotCompleted},
		{payment.StatusPaid, nil},
		{payment.StatusRefunded, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			s := placeCard(t).Snapshot()
			s.Payment.Status = tt.status
			if err := order.Restore(s).RequirePaid(); !errors.Is(err, tt.wantErr) {
				t.Errorf("RequirePaid = %v; want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewChanges(t *testing.T) {
	o := placeCard(t)
	first := o.NewChanges()
	if len(first) != 1 || first[0].Type != order.ChangePlaced {
		t.Fatalf("NewChanges after Place = %+v; want [order.placed]", first)
	}
	first[0].Cause = "tampered"
	if got := o.Timeline()[0].Cause; got != "customer c1" {
		t.Errorf("Timeline()[0].Cause after editing NewChanges' result = %q; want \"customer c1\"", got)
	}

	// A stored order has nothing new until something happens to it.
	r := order.Restore(o.Snapshot())
	if got := r.NewChanges(); len(got) != 0 {
		t.Errorf("NewChanges after Restore = %+v; want none", got)
	}
	if _, err := r.ApplyIntent(failedIntent(r, "card_declined"), order.CauseWebhook("evt_1"), t1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyIntent(okIntent(r, payment.IntentSucceeded), order.CauseWebhook("evt_2"), t2); err != nil {
		t.Fatal(err)
	}
	var types []order.ChangeType
	for _, c := range r.NewChanges() {
		types = append(types, c.Type)
	}
	want := []order.ChangeType{order.ChangePaymentFailed, order.ChangePaymentSucceeded, order.ChangeConfirmed}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("NewChanges types = %v; want %v", types, want)
	}
	if got := len(r.Timeline()); got != 4 {
		t.Errorf("len(Timeline) = %d; want 4", got)
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	for _, o := range []*order.Order{placeCard(t), place(t, payment.MethodCash)} {
		if _, err := o.ApplyIntent(okIntent(o, payment.IntentSucceeded), order.CauseWebhook("evt_1"), t1); err != nil && !errors.Is(err, payment.ErrNotCard) {
			t.Fatal(err)
		}
		s := o.Snapshot()
		s.Version = 7
		r := order.Restore(s)
		if got := r.Snapshot(); !reflect.DeepEqual(got, s) {
			t.Errorf("Restore(s).Snapshot() = %+v; want %+v", got, s)
		}
		if r.Version() != 7 || r.Total() != o.Total() || r.Status() != o.Status() || r.Payment().Status() != o.Payment().Status() {
			t.Errorf("restored %+v; want the same as %+v", r.Snapshot(), s)
		}
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	o := place(t, payment.MethodCash)
	items, tl, snap := o.Items(), o.Timeline(), o.Snapshot()
	items[0].Quantity = 999
	tl[0].Type = "x"
	snap.Items[0].Title = "x"
	snap.Timeline[1].Cause = "x"
	if o.Items()[0].Quantity != 2 || o.Items()[0].Title != "Product p1" || o.Timeline()[0].Type != order.ChangePlaced || o.Timeline()[1].Cause != "customer c1" {
		t.Errorf("order changed through a returned slice: items %+v timeline %+v", o.Items(), o.Timeline())
	}
}

func TestIsVisibleTo(t *testing.T) {
	o := place(t, payment.MethodCard)
	tests := []struct {
		user    string
		isAdmin bool
		want    bool
	}{
		{"c1", false, true},
		{"c2", false, false},
		{"", false, false},
		{"", true, true},
		{"a1", true, true},
	}
	for _, tt := range tests {
		if got := o.IsVisibleTo(tt.user, tt.isAdmin); got != tt.want {
			t.Errorf("IsVisibleTo(%q, %v) = %v; want %v", tt.user, tt.isAdmin, got, tt.want)
		}
	}
}

func TestCauses(t *testing.T) {
	tests := []struct {
		got  order.Cause
		want string
	}{
		{order.CauseCustomer("u1"), "customer u1"},
		{order.CauseAdmin("a1"), "admin a1"},
		{order.CauseWebhook("evt_1"), "webhook evt_1"},
		{order.CauseClientConfirm("u1"), "confirm by u1"},
		{order.CauseReconciler, "reconciler"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("cause = %q; want %q", tt.got, tt.want)
		}
	}
}
