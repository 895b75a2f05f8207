package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestOrderRepository_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		repo := tdb.store.Orders()
		p1, p2 := addProduct(t, tdb, "p-1", 10), addProduct(t, tdb, "p-2", 10)

		t.Run("every field survives a round trip", func(t *testing.T) {
			for _, method := range []payment.Method{payment.MethodCard, payment.MethodCash} {
				want := addOrder(t, tdb, orderSpec{id: "o-round-" + string(method), method: method}, p1, p2)
				got, err := repo.Get(ctx, want.ID())
				if err != nil {
					t.Fatalf("get: %v", err)
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

		t.Run("FindIDByIntent finds the order its payment belongs to", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-intent"}, p1)
			if got, err := repo.FindIDByIntent(ctx, "pi_o-intent"); err != nil || got != o.ID() {
				t.Errorf("got %q, %v; want %q", got, err, o.ID())
			}
		})

		t.Run("an intent pays one order only", func(t *testing.T) {
			o := placeOrder(t, orderSpec{id: "o-intent-twin"}, p1)
			s := o.Snapshot()
			s.Payment.IntentID = "pi_o-intent"
			if err := repo.Add(ctx, order.Restore(s)); err == nil {
				t.Error("a second order with the same intent was stored")
			}
		})

		t.Run("Update stores the change, its timeline entries and a new version", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-pay"}, p1)
			paidAt := t0.Add(time.Minute)
			updated, err := repo.Update(ctx, o.ID(), func(o *order.Order) error {
				_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_1"), paidAt)
				return err
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got := changeTypes(updated.NewChanges()); !slices.Equal(got, []order.ChangeType{order.ChangePaymentSucceeded, order.ChangeConfirmed}) {
				t.Errorf("new changes %v; want payment.succeeded, order.confirmed", got)
			}
			stored, err := repo.Get(ctx, o.ID())
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			want := updated.Snapshot()
			want.Version = o.Version() + 1
			if !reflect.DeepEqual(stored.Snapshot(), want) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored.Snapshot(), want)
			}
		})

		t.Run("refunds, a dispute and returned stock survive updates", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-refund"}, p1)
			partial, later := usd(1000), t0.Add(time.Hour)
			steps := []func(o *order.Order) error{
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
			var updated *order.Order
			for i, step := range steps {
				var err error
				if updated, err = repo.Update(ctx, o.ID(), step); err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
			}
			stored, err := repo.Get(ctx, o.ID())
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			want := updated.Snapshot()
			want.Version = int64(len(steps))
			if !reflect.DeepEqual(stored.Snapshot(), want) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored.Snapshot(), want)
			}
			if !want.StockReturned || want.Dispute == nil || len(want.Refunds) != 2 {
				t.Errorf("the fixture did not exercise refunds, dispute and restock: %+v", want)
			}
		})

		t.Run("the reconciler's lists find stale unpaid orders and pending refunds", func(t *testing.T) {
			stale := addOrder(t, tdb, orderSpec{id: "o-stale", customer: "recon", at: t0.Add(-2 * time.Hour)}, p1)
			addOrder(t, tdb, orderSpec{id: "o-fresh", customer: "recon", at: t0}, p1)
			addOrder(t, tdb, orderSpec{id: "o-stale-cash", customer: "recon", method: payment.MethodCash, at: t0.Add(-2 * time.Hour)}, p1)
			cutoff := t0.Add(-time.Hour)
			if got, err := repo.ListAwaitingPayment(ctx, cutoff, 10); err != nil || !slices.Contains(got, stale.ID()) ||
				slices.Contains(got, "o-fresh") || slices.Contains(got, "o-stale-cash") {
				t.Errorf("ListAwaitingPayment = %v, %v; want o-stale and neither o-fresh nor o-stale-cash", got, err)
			}
			_, err := repo.Update(ctx, stale.ID(), func(o *order.Order) error {
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
			if got, err := repo.ListAwaitingPayment(ctx, cutoff, 10); err != nil || slices.Contains(got, stale.ID()) {
				t.Errorf("ListAwaitingPayment = %v, %v; a paid order is not awaiting payment", got, err)
			}
		})

		t.Run("Update stores nothing when fn fails", func(t *testing.T) {
			o := addOrder(t, tdb, orderSpec{id: "o-fail"}, p1)
			boom := errors.New("boom")
			_, err := repo.Update(ctx, o.ID(), func(o *order.Order) error {
				_, _ = o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_2"), t0)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v; want boom", err)
			}
			stored, _ := repo.Get(ctx, o.ID())
			if !reflect.DeepEqual(stored.Snapshot(), o.Snapshot()) {
				t.Errorf("a failed update changed the order to %+v", stored.Snapshot())
			}
		})

		t.Run("List pages newest first and filters", func(t *testing.T) {
			// Fractions of a second of different lengths, and a tie broken by id: SQLite compares
			// the stored text, which must order like the times.
			second := t0.Truncate(time.Second)
			times := []time.Time{second, second, second.Add(100 * time.Millisecond), second.Add(120 * time.Millisecond),
				second.Add(123456 * time.Microsecond), second.Add(999999 * time.Microsecond), second.Add(time.Second)}
			for i, id := range ids(len(times), "o-list") {
				spec := orderSpec{id: id, customer: "lister", at: times[i]}
				if i == 6 {
					spec.method = payment.MethodCash // Confirmed at once
				}
				addOrder(t, tdb, spec, p1)
			}
			want := []string{"o-list-06", "o-list-05", "o-list-04", "o-list-03", "o-list-02", "o-list-01", "o-list-00"}
			if got := listAll(t, repo, app.OrderQuery{CustomerID: "lister", Limit: 2}); !slices.Equal(got, want) {
				t.Errorf("customer's orders %v; want %v", got, want)
			}
			confirmed := listAll(t, repo, app.OrderQuery{CustomerID: "lister", Status: order.StatusConfirmed, Limit: 2})
			if !slices.Equal(confirmed, []string{"o-list-06"}) {
				t.Errorf("confirmed orders %v; want [o-list-06]", confirmed)
			}
			if all := listAll(t, repo, app.OrderQuery{Limit: 3}); len(all) < len(want)+3 {
				t.Errorf("all orders %v; want every order", all)
			}
			for _, bad := range []string{"%%%", encodeCursor("no-time"), encodeCursor("12 ")} {
				if _, _, err := repo.List(ctx, app.OrderQuery{After: bad}); !errors.Is(err, ErrBadCursor) {
					t.Errorf("cursor %q: got %v; want ErrBadCursor", bad, err)
				}
			}
		})
	})
}

// succeeded is the provider's report that o's intent was paid in full.
func succeeded(o *order.Order) payment.Intent {
	return payment.Intent{ID: o.Payment().IntentID(), Amount: o.Total().Minor(),
		Currency: o.Total().Currency().Code(), Status: payment.IntentSucceeded, OrderID: o.ID()}
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
	var got []string
	for pages := 0; pages < 100; pages++ {
		page, next, err := repo.List(context.Background(), q)
		if err != nil || len(page) > q.Limit {
			t.Fatalf("page %d: %d orders, %v", pages, len(page), err)
		}
		for _, o := range page {
			got = append(got, o.ID())
		}
		if next == "" {
			return got
		}
		q.After = next
	}
	t.Fatal("List never ended")
	return nil
}
