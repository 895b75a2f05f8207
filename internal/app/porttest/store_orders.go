package porttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

func (s storeSuite) orders(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	repo := store.Orders()
	p1, p2 := AddProduct(t, store, "p-1", 10), AddProduct(t, store, "p-2", 10)

	t.Run("every field survives a round trip", func(t *testing.T) {
		for _, method := range []payment.Method{payment.MethodCard, payment.MethodCash} {
			want := AddOrder(t, store, OrderSpec{ID: "o-round-" + string(method), Method: method}, p1, p2)
			got, err := repo.Get(ctx, want.ID())
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !reflect.DeepEqual(got.Snapshot(), want.Snapshot()) {
				t.Errorf("%s order:\n got %+v\nwant %+v", method, got.Snapshot(), want.Snapshot())
			}
			if fresh := got.NewChanges(); len(fresh) != 0 {
				t.Errorf("a loaded order has new changes %v", fresh)
			}
		}
	})

	t.Run("missing orders are not found", func(t *testing.T) {
		if _, err := repo.Get(ctx, "nope"); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Get: got %v; want ErrNotFound", err)
		}
		if _, err := repo.Update(ctx, "nope", func(*order.Order) error { return nil }); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Update: got %v; want ErrNotFound", err)
		}
		for _, intent := range []string{"pi_nope", ""} {
			if _, err := repo.FindIDByIntent(ctx, intent); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("FindIDByIntent(%q): got %v; want ErrNotFound", intent, err)
			}
		}
	})

	t.Run("Glance tells whose an order is, its version and its payment's state and intent", func(t *testing.T) {
		for _, method := range []payment.Method{payment.MethodCard, payment.MethodCash} {
			o := AddOrder(t, store, OrderSpec{ID: "o-glance-" + string(method), Method: method}, p1)
			pay := o.Payment()
			want := app.OrderGlance{CustomerID: o.CustomerID(), Version: o.Version(), PaymentMethod: method,
				PaymentStatus: pay.Status(), PaymentProvider: pay.Provider(), IntentID: pay.IntentID()}
			if got, err := repo.Glance(ctx, o.ID()); err != nil || got != want {
				t.Errorf("Glance(%s) = %+v, %v; want %+v", o.ID(), got, err, want)
			}
		}
		o := AddOrder(t, store, OrderSpec{ID: "o-glance-paid"}, p1)
		if _, err := repo.Update(ctx, o.ID(), func(o *order.Order) error {
			_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_glance"), t0.Add(time.Minute))
			return err
		}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		got, err := repo.Glance(ctx, o.ID())
		if err != nil || got.Version != o.Version()+1 || got.PaymentStatus != payment.StatusPaid {
			t.Errorf("Glance after the payment = %+v, %v; want version %d, Paid", got, err, o.Version()+1)
		}
		if _, err := repo.Glance(ctx, "nope"); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Glance(nope): got %v; want ErrNotFound", err)
		}
	})

	t.Run("an order is added once", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-once"}, p1)
		if err := repo.Add(ctx, PlaceOrder(t, OrderSpec{ID: o.ID(), Method: payment.MethodCash}, p2)); err == nil {
			t.Error("a second order with the same id was stored")
		}
	})

	t.Run("FindIDByIntent finds the one order its payment belongs to", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-intent"}, p1)
		if got, err := repo.FindIDByIntent(ctx, "pi_o-intent"); err != nil || got != o.ID() {
			t.Errorf("FindIDByIntent = %q, %v; want %q", got, err, o.ID())
		}
		twin := PlaceOrder(t, OrderSpec{ID: "o-intent-twin"}, p1).Snapshot()
		twin.Payment.IntentID = "pi_o-intent"
		if err := repo.Add(ctx, order.Restore(twin)); err == nil {
			t.Error("a second order with the same intent was stored")
		}
	})

	t.Run("Update stores the change, its timeline entries and a new version", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-pay"}, p1)
		updated, err := repo.Update(ctx, o.ID(), func(o *order.Order) error {
			_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_1"), t0.Add(time.Minute))
			return err
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got := changeTypes(updated.NewChanges()); !slices.Equal(got, []order.ChangeType{order.ChangePaymentSucceeded, order.ChangeConfirmed}) {
			t.Errorf("new changes %v; want payment.succeeded, order.confirmed", got)
		}
		assertStoredOrder(t, repo, updated, o.Version()+1)
	})

	t.Run("refunds, a dispute and returned stock survive updates", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-refund"}, p1)
		steps := lifeOfARefundedOrder(t)
		var updated *order.Order
		for i, step := range steps {
			var err error
			if updated, err = repo.Update(ctx, o.ID(), step); err != nil {
				t.Fatalf("step %d: %v", i+1, err)
			}
		}
		assertStoredOrder(t, repo, updated, int64(len(steps)))
		if want := updated.Snapshot(); !want.StockReturned || want.Dispute == nil || len(want.Refunds) != 2 {
			t.Errorf("the fixture did not exercise refunds, dispute and restock: %+v", want)
		}
	})

	t.Run("Update stores nothing when fn fails", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-fail"}, p1)
		_, err := repo.Update(ctx, o.ID(), func(o *order.Order) error {
			_, _ = o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_2"), t0)
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update: got %v; want fn's error", err)
		}
		if stored, _ := repo.Get(ctx, o.ID()); !reflect.DeepEqual(stored.Snapshot(), o.Snapshot()) {
			t.Errorf("a failed update changed the order to %+v", stored.Snapshot())
		}
	})

	t.Run("the reconciler's lists find stale unpaid orders and pending refunds", func(t *testing.T) {
		older := AddOrder(t, store, OrderSpec{ID: "o-stale-1", Customer: "recon", At: t0.Add(-3 * time.Hour)}, p1)
		stale := AddOrder(t, store, OrderSpec{ID: "o-stale-0", Customer: "recon", At: t0.Add(-2 * time.Hour)}, p1)
		AddOrder(t, store, OrderSpec{ID: "o-fresh", Customer: "recon", At: t0}, p1)
		AddOrder(t, store, OrderSpec{ID: "o-stale-cash", Customer: "recon", Method: payment.MethodCash, At: t0.Add(-2 * time.Hour)}, p1)
		cutoff := t0.Add(-time.Hour)
		awaiting := func(after string, limit int) ([]string, string, error) {
			return repo.ListAwaitingPayment(ctx, app.AwaitingQuery{PlacedBefore: cutoff, After: after, Limit: limit})
		}
		if got, next, err := awaiting("", 10); err != nil || !slices.Equal(got, []string{older.ID(), stale.ID()}) || next != "" {
			t.Errorf("ListAwaitingPayment = %v, %q, %v; want [%s %s] and no next page: stale card orders, oldest first",
				got, next, err, older.ID(), stale.ID())
		}
		first, next, err := awaiting("", 1)
		if err != nil || !slices.Equal(first, []string{older.ID()}) || next == "" {
			t.Fatalf("ListAwaitingPayment(limit 1) = %v, %q, %v; want the oldest, [%s], and a next page", first, next, err, older.ID())
		}
		if got, last, err := awaiting(next, 1); err != nil || !slices.Equal(got, []string{stale.ID()}) {
			t.Errorf("the next page = %v, %q, %v; want [%s]", got, last, err, stale.ID())
		} else if rest, _, err := awaiting(last, 1); last != "" && (err != nil || len(rest) != 0) {
			t.Errorf("the page after the newest = %v, %v; want none", rest, err)
		}
		_, err = repo.Update(ctx, stale.ID(), func(o *order.Order) error {
			if _, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_s"), cutoff); err != nil {
				return err
			}
			_, err := o.RequestRefund(order.RefundRequest{ID: "rf-stale"}, order.CauseAdmin("a1"), t0.Add(-90*time.Minute))
			return err
		})
		if err != nil {
			t.Fatalf("refund: %v", err)
		}
		if got, err := repo.ListWithPendingRefunds(ctx, cutoff, 10); err != nil || !slices.Equal(got, []string{stale.ID()}) {
			t.Errorf("ListWithPendingRefunds = %v, %v; want [%s]", got, err, stale.ID())
		}
		if got, err := repo.ListWithPendingRefunds(ctx, t0.Add(-2*time.Hour), 10); err != nil || len(got) != 0 {
			t.Errorf("ListWithPendingRefunds before the request = %v, %v; want none", got, err)
		}
		if got, _, err := awaiting("", 10); err != nil || slices.Contains(got, stale.ID()) {
			t.Errorf("ListAwaitingPayment = %v, %v; a paid order is not awaiting payment", got, err)
		}
	})

	t.Run("UnpaidCardHolding counts only the customer's pending card orders", func(t *testing.T) {
		AddOrder(t, store, OrderSpec{ID: "card-1", Customer: "holder"}, p1, p2) // 1 + 2 units
		AddOrder(t, store, OrderSpec{ID: "card-2", Customer: "holder"}, p1)     // 1 unit
		cancelled := AddOrder(t, store, OrderSpec{ID: "card-cancelled", Customer: "holder"}, p1, p2)
		if _, err := repo.Update(ctx, cancelled.ID(), func(o *order.Order) error {
			_, err := o.Cancel(false, order.CauseCustomer("holder"), t0)
			return err
		}); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		AddOrder(t, store, OrderSpec{ID: "cash-1", Customer: "holder", Method: payment.MethodCash}, p1, p2)
		AddOrder(t, store, OrderSpec{ID: "card-other", Customer: "other-holder"}, p1, p2)
		if held, err := repo.UnpaidCardHolding(ctx, "holder"); err != nil || held != (app.UnpaidHolding{Orders: 2, Units: 4}) {
			t.Errorf("UnpaidCardHolding = %+v, %v; want 2 orders holding 4 units", held, err)
		}
		if held, err := repo.UnpaidCardHolding(ctx, "nobody"); err != nil || held != (app.UnpaidHolding{}) {
			t.Errorf("a customer without orders: got %+v, %v; want nothing held", held, err)
		}
		// "holder" holds 2 orders of 4 units; an order of 3 more units (p1 + p2) is refused or
		// admitted, by the time its transaction commits (a store may check with the COMMIT)
		for i, c := range []struct {
			limit app.UnpaidCap
			want  string // "" admits; else words of the refusal's message
		}{
			{app.UnpaidCap{MaxOrders: 2}, "2 unpaid card orders"},
			{app.UnpaidCap{MaxUnits: 6}, "hold 4 units; with these 3"},
			{app.UnpaidCap{MaxOrders: 3, MaxUnits: 7}, ""}, // last: it stores a third order
		} {
			placing := PlaceOrder(t, OrderSpec{ID: fmt.Sprintf("card-placing-%d", i), Customer: "holder"}, p1, p2)
			err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				if err := tx.Orders().Add(ctx, placing); err != nil { // stored first or not, it is left out
					return err
				}
				return tx.Orders().AdmitUnpaid(ctx, placing, c.limit)
			})
			switch {
			case c.want == "" && err != nil:
				t.Errorf("AdmitUnpaid under %+v: %v; want admitted", c.limit, err)
			case c.want != "" && (!errors.Is(err, app.ErrUnpaidReservationsExceeded) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("AdmitUnpaid under %+v: %v; want unpaid_reservations_exceeded saying %q", c.limit, err, c.want)
			}
		}
		if held, err := repo.UnpaidCardHolding(ctx, "holder"); err != nil || held != (app.UnpaidHolding{Orders: 3, Units: 7}) {
			t.Errorf("after two refusals and an admission: %+v, %v; want 3 orders holding 7 units", held, err)
		}
	})
}

// lifeOfARefundedOrder are the updates of a card order that is paid, refunded in two parts (the
// second restocks), and disputed.
func lifeOfARefundedOrder(t *testing.T) []func(o *order.Order) error {
	partial, later := usd(t, 1000), t0.Add(time.Hour)
	return []func(o *order.Order) error{
		func(o *order.Order) error {
			_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_paid"), t0)
			return err
		},
		func(o *order.Order) error {
			if _, err := o.RequestRefund(order.RefundRequest{ID: "rf-1", Amount: &partial, Reason: "damaged"}, order.CauseAdmin("a1"), t0); err != nil {
				return err
			}
			_, err := o.RequestRefund(order.RefundRequest{ID: "rf-2", Restock: true}, order.CauseAdmin("a1"), t0)
			return err
		},
		func(o *order.Order) error {
			o.RecordDispute(order.Dispute{Status: "needs_response", Reason: "fraudulent", Amount: partial, OpenedAt: later}, false, order.CauseWebhook("evt_dp"), later)
			if _, err := o.SettleRefund("rf-1", "re_1", true, order.CauseWebhook("evt_r1"), later); err != nil {
				return err
			}
			_, err := o.SettleRefund("rf-2", "re_2", true, order.CauseWebhook("evt_r2"), later)
			return err
		},
	}
}

// assertStoredOrder checks that the stored order is updated, at version.
// raceUpdates runs racers updates of order id at once, the i-th applying change(i, o), and returns
// the order as stored after all of them.
func raceUpdates(t *testing.T, store app.Store, id string, change func(i int, o *order.Order) error) *order.Order {
	t.Helper()
	errs := Parallel(racers, func(i int) error {
		_, err := store.Orders().Update(context.Background(), id, func(o *order.Order) error { return change(i, o) })
		return err
	})
	assertNoErrors(t, errs)
	stored, err := store.Orders().Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return stored
}

// countChanges counts o's timeline entries of type typ.
func countChanges(o *order.Order, typ order.ChangeType) int {
	n := 0
	for _, c := range o.Timeline() {
		if c.Type == typ {
			n++
		}
	}
	return n
}

func assertStoredOrder(t *testing.T, repo app.OrderRepository, updated *order.Order, version int64) {
	t.Helper()
	stored, err := repo.Get(context.Background(), updated.ID())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := updated.Snapshot()
	want.Version = version
	if !reflect.DeepEqual(stored.Snapshot(), want) {
		t.Errorf("stored:\n got %+v\nwant %+v", stored.Snapshot(), want)
	}
}

func (s storeSuite) orderList(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	repo := store.Orders()
	p := AddProduct(t, store, "p-list", 100)
	// Fractions of a second of different lengths, and a tie broken by id: a store that compares
	// times as text must order them like times.
	second := t0.Truncate(time.Second)
	times := []time.Time{second, second, second.Add(100 * time.Millisecond), second.Add(120 * time.Millisecond),
		second.Add(123456 * time.Microsecond), second.Add(999999 * time.Microsecond), second.Add(time.Second)}
	for i, id := range ids(len(times), "o-list") {
		spec := OrderSpec{ID: id, Customer: "lister", At: times[i]}
		if i == 6 {
			spec.Method = payment.MethodCash // Confirmed at once
		}
		AddOrder(t, store, spec, p)
	}
	AddOrder(t, store, OrderSpec{ID: "o-list-other", Customer: "someone-else", At: second.Add(time.Hour)}, p)

	want := []string{"o-list-06", "o-list-05", "o-list-04", "o-list-03", "o-list-02", "o-list-01", "o-list-00"}
	if got := listAll(t, repo, app.OrderQuery{CustomerID: "lister", Limit: 2}); !slices.Equal(got, want) {
		t.Errorf("the customer's orders %v; want %v", got, want)
	}
	confirmed := listAll(t, repo, app.OrderQuery{CustomerID: "lister", Status: order.StatusConfirmed, Limit: 2})
	if !slices.Equal(confirmed, []string{"o-list-06"}) {
		t.Errorf("confirmed orders %v; want [o-list-06]", confirmed)
	}
	if pending := listAll(t, repo, app.OrderQuery{Status: order.StatusPending, Limit: 3}); !slices.Equal(pending, append([]string{"o-list-other"}, want[1:]...)) {
		t.Errorf("pending orders of everyone %v; want o-list-other, then %v", pending, want[1:])
	}
	if all := listAll(t, repo, app.OrderQuery{Limit: 3}); !slices.Equal(all, append([]string{"o-list-other"}, want...)) {
		t.Errorf("all orders %v; want o-list-other, then %v", all, want)
	}
	if s.features.BadCursor == nil {
		return
	}
	if _, _, err := repo.List(ctx, app.OrderQuery{After: "%%%", Limit: 2}); !errors.Is(err, s.features.BadCursor) {
		t.Errorf("a cursor the store did not make: got %v; want %v", err, s.features.BadCursor)
	}
}

func (s storeSuite) orderRaces(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	p := AddProduct(t, store, "p-race", 100)

	t.Run("concurrent updates of one order are serialized and apply once", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-cash", Method: payment.MethodCash}, p)
		stored := raceUpdates(t, store, o.ID(), func(_ int, o *order.Order) error {
			_, err := o.CollectCash(order.CauseAdmin("a1"), t0)
			return err
		})
		paid := countChanges(stored, order.ChangePaymentSucceeded)
		if paid != 1 || stored.Payment().Status() != payment.StatusPaid || stored.Version() != racers {
			t.Errorf("payment %s with %d payment.succeeded entries at version %d; want Paid once, version %d",
				stored.Payment().Status(), paid, stored.Version(), racers)
		}
	})

	t.Run("an update that waited for another reads the order as that one stored it", func(t *testing.T) {
		o := AddOrder(t, store, OrderSpec{ID: "o-disputed"}, p)
		stored := raceUpdates(t, store, o.ID(), func(i int, o *order.Order) error {
			d := order.Dispute{Status: fmt.Sprintf("status-%d", i), Reason: "fraudulent", Amount: o.Total(), OpenedAt: t0}
			if !o.RecordDispute(d, false, order.CauseWebhook(fmt.Sprintf("evt_dispute_%d", i)), t0) {
				return fmt.Errorf("racer %d: dispute not recorded", i)
			}
			return nil
		})
		disputed := countChanges(stored, order.ChangeDisputed)
		if disputed != racers || stored.Version() != racers {
			t.Errorf("%d order.disputed entries at version %d; want %d of each: an update lost what another stored",
				disputed, stored.Version(), racers)
		}
	})

	t.Run("AdmitUnpaid in a transaction serializes the customer's checkouts", func(t *testing.T) {
		checkouts := make([]*order.Order, racers)
		for i, id := range ids(racers, "o-hoard") {
			checkouts[i] = PlaceOrder(t, OrderSpec{ID: id, Customer: "hoarder"}, p)
		}
		errs := Parallel(racers, func(i int) error {
			return store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error {
				if err := tx.Orders().AdmitUnpaid(ctx, checkouts[i], app.UnpaidCap{MaxOrders: 1}); err != nil {
					return err
				}
				return tx.Orders().Add(ctx, checkouts[i])
			})
		})
		if won := Winners(t, errs, app.ErrUnpaidReservationsExceeded); won != 1 {
			t.Errorf("%d checkouts passed a cap of one unpaid order; want 1", won)
		}
		if held, err := store.Orders().UnpaidCardHolding(ctx, "hoarder"); err != nil || held.Orders != 1 {
			t.Errorf("UnpaidCardHolding = %+v, %v; want 1 order", held, err)
		}
	})
}

func changeTypes(changes []order.Change) []order.ChangeType {
	out := make([]order.ChangeType, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.Type)
	}
	return out
}

// listAll follows the cursors through every page of q and returns the order ids.
func listAll(t *testing.T, repo app.OrderRepository, q app.OrderQuery) []string {
	t.Helper()
	orders := allPages(t, q.Limit, func(after string) ([]*order.Order, string, error) {
		q.After = after
		return repo.List(context.Background(), q)
	})
	out := make([]string, 0, len(orders))
	for _, o := range orders {
		out = append(out, o.ID())
	}
	return out
}
