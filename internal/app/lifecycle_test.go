package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// paidOrder places a card order for qty units of p1 and has the provider report it paid.
func (f *fixture) paidOrder(t *testing.T, qty int64) *order.Order {
	t.Helper()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: qty}).Order
	f.succeed(o)
	res, err := f.app.Finalizer.Finalize(context.Background(), o.ID(), order.CauseReconciler)
	if err != nil || !res.Order.Payment().IsPaid() {
		t.Fatalf("pay order: %v", err)
	}
	return res.Order
}

func (f *fixture) get(t *testing.T, id string) *order.Order {
	t.Helper()
	o, err := f.app.Orders.Get(context.Background(), admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func amount(s string) *string { return &s }

func TestFullRefundRequestedTwiceConcurrentlyRestocksOnce(t *testing.T) {
	f := newFixture(t)
	o := f.paidOrder(t, 3) // stock 10 → 7
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.app.Refunds.Handle(context.Background(), app.RefundOrder{Actor: admin, OrderID: o.ID(), Restock: true})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var ok, refused int
	for err := range errs {
		if err == nil {
			ok++
		} else if errors.Is(err, order.ErrAlreadyRefunded) || errors.Is(err, order.ErrRefundTooLarge) {
			refused++
		} else {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 || refused != 1 || f.gateway.Refunds() != 1 {
		t.Fatalf("got %d refunds, %d refused, %d at the provider", ok, refused, f.gateway.Refunds())
	}
	// The provider echoes the refund back as charge.refunded: nothing more may change.
	f.webhook(t, "evt_r1 charge.refunded "+o.Payment().IntentID())
	got := f.get(t, o.ID())
	refunded, _ := got.RefundedAmount()
	if f.stock("p1") != 10 || got.Status() != order.StatusRefunded || got.Payment().Status() != payment.StatusRefunded || refunded != got.Total() {
		t.Fatalf("got stock %d, %s/%s, refunded %s", f.stock("p1"), got.Status(), got.Payment().Status(), refunded)
	}
	if n := countType(f.publishedTypes(), events.TopicOrderRefunded); n != 1 {
		t.Fatalf("got %d orders.refunded events; want 1", n)
	}
}

func TestPartialRefundsAddUpAndCannotExceedThePaidTotal(t *testing.T) {
	f := newFixture(t)
	o := f.paidOrder(t, 1) // 226.49 + 7.00 = 233.49
	ctx := context.Background()
	for _, a := range []string{"100", "100"} {
		if _, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount(a)}); err != nil {
			t.Fatalf("refund %s: %v", a, err)
		}
	}
	_, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount("33.50")})
	wantCode(t, err, "refund_exceeds_paid")
	_, err = f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount("10"), Restock: true})
	wantCode(t, err, "restock_requires_full_refund")
	got := f.get(t, o.ID())
	if refunded, _ := got.RefundedAmount(); refunded.Minor() != 20000 || got.Payment().Status() != payment.StatusPaid {
		t.Fatalf("got refunded %s, payment %s", refunded, got.Payment().Status())
	}
	if _, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: o.ID(), Amount: amount("33.49")}); err != nil {
		t.Fatalf("last refund: %v", err)
	}
	if got := f.get(t, o.ID()); got.Payment().Status() != payment.StatusRefunded || f.stock("p1") != 9 {
		t.Fatalf("got payment %s, stock %d (no restock asked)", got.Payment().Status(), f.stock("p1"))
	}
}

func TestRefundRulesAreFaultsThatChangeNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	unpaid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	_, err := f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: unpaid.ID()})
	wantCode(t, err, "refund_not_paid")
	paid := f.paidOrder(t, 1)
	_, err = f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: customer, OrderID: paid.ID()})
	wantCode(t, err, "forbidden")
	_, err = f.app.Refunds.Handle(ctx, app.RefundOrder{Actor: admin, OrderID: paid.ID(), Amount: amount("-1")})
	wantCode(t, err, "refund_amount_invalid")
	if len(f.get(t, paid.ID()).Refunds()) != 0 || f.gateway.Refunds() != 0 {
		t.Fatal("a refused refund was booked or sent")
	}
}

func TestRefundWithTheProviderDownStaysPendingAndTheReconcilerFinishesIt(t *testing.T) {
	f := newFixture(t)
	o := f.paidOrder(t, 1)
	f.gateway.FailRefund(app.ErrProviderUnavailable)
	_, err := f.app.Refunds.Handle(context.Background(), app.RefundOrder{Actor: admin, OrderID: o.ID()})
	wantCode(t, err, "refund_pending")
	_, err = f.app.Refunds.Handle(context.Background(), app.RefundOrder{Actor: admin, OrderID: o.ID()})
	wantCode(t, err, "already_refunded") // the pending refund holds the whole amount
	f.gateway.FailRefund(nil)
	f.clock.Advance(2 * time.Minute)
	if _, err := f.app.Reconciler.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, o.ID()); got.Payment().Status() != payment.StatusRefunded || f.gateway.Refunds() != 1 {
		t.Fatalf("got %s with %d provider refunds", got.Payment().Status(), f.gateway.Refunds())
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	t.Run("customer cancels an unpaid order: intent cancelled, stock back once", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 4}).Order
		for range 2 {
			if _, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: customer, OrderID: o.ID()}); err != nil {
				t.Fatalf("cancel: %v", err)
			}
		}
		if got := f.get(t, o.ID()); got.Status() != order.StatusCancelled || f.stock("p1") != 10 || len(f.gateway.Cancelled()) != 1 {
			t.Fatalf("got %s, stock %d, cancelled intents %v", got.Status(), f.stock("p1"), f.gateway.Cancelled())
		}
	})
	t.Run("customer cannot cancel a paid order", func(t *testing.T) {
		f := newFixture(t)
		o := f.paidOrder(t, 1)
		_, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: customer, OrderID: o.ID()})
		wantCode(t, err, "order_already_paid")
		if f.get(t, o.ID()).Status() != order.StatusConfirmed {
			t.Fatal("a refused cancel changed the order")
		}
	})
	t.Run("customer paid just before cancelling: the payment wins", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		f.succeed(o) // paid at the provider, webhook not here yet
		_, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: customer, OrderID: o.ID()})
		wantCode(t, err, "order_already_paid")
		if got := f.get(t, o.ID()); got.Status() != order.StatusConfirmed || !got.Payment().IsPaid() {
			t.Fatalf("got %s/%s; want the paid order kept", got.Status(), got.Payment().Status())
		}
	})
	t.Run("admin cancels a paid order and it is refunded in full", func(t *testing.T) {
		f := newFixture(t)
		o := f.paidOrder(t, 2)
		got, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: admin, OrderID: o.ID()})
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if got.Payment().Status() != payment.StatusRefunded || f.stock("p1") != 10 {
			t.Fatalf("got payment %s, stock %d", got.Payment().Status(), f.stock("p1"))
		}
	})
	t.Run("shipped orders cannot be cancelled", func(t *testing.T) {
		f := newFixture(t)
		o := f.paidOrder(t, 1)
		if _, err := f.app.Fulfillment.Ship(ctx, admin, o.ID()); err != nil {
			t.Fatal(err)
		}
		_, err := f.app.Cancel.Handle(ctx, app.CancelOrder{Actor: admin, OrderID: o.ID()})
		wantCode(t, err, "order_not_cancellable")
	})
}

func TestReconcilerPaysLostWebhooksAndExpiresUnpaidOrders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	paid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(paid) // its webhook is never delivered
	unpaid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 2}).Order
	fresh := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p2", Quantity: 1}).Order

	f.clock.Advance(6 * time.Minute)
	rep, err := f.app.Reconciler.RunOnce(ctx)
	if err != nil || rep.Paid != 1 || rep.Expired != 0 {
		t.Fatalf("first pass: got %+v, %v", rep, err)
	}
	if got := f.get(t, paid.ID()); got.Payment().Status() != payment.StatusPaid {
		t.Fatalf("lost-webhook order: got %s", got.Payment().Status())
	}
	f.clock.Advance(30 * time.Minute)
	if rep, err = f.app.Reconciler.RunOnce(ctx); err != nil || rep.Expired != 2 {
		t.Fatalf("second pass: got %+v, %v", rep, err)
	}
	for _, id := range []string{unpaid.ID(), fresh.ID()} {
		if got := f.get(t, id); got.Status() != order.StatusCancelled {
			t.Fatalf("expired order %s: got %s", id, got.Status())
		}
	}
	if f.stock("p1") != 9 || f.stock("p2") != 1 {
		t.Fatalf("stock: got p1 %d p2 %d; want 9 and 1", f.stock("p1"), f.stock("p2"))
	}
}

func TestPaymentAfterExpiryIsRefunded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	if _, err := f.app.Cancel.Expire(ctx, o.ID()); err != nil {
		t.Fatal(err)
	}
	f.succeed(o) // the customer's bank confirmed just after the intent was cancelled
	f.webhook(t, "evt_late payment_intent.succeeded "+o.Payment().IntentID())
	got := f.get(t, o.ID())
	if got.Status() != order.StatusRefunded || got.Payment().Status() != payment.StatusRefunded || f.gateway.Refunds() != 1 {
		t.Fatalf("got %s/%s with %d refunds", got.Status(), got.Payment().Status(), f.gateway.Refunds())
	}
}

func TestShipAndDeliver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	unpaid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	_, err := f.app.Fulfillment.Ship(ctx, admin, unpaid.ID())
	wantCode(t, err, "order_not_shippable")
	_, err = f.app.Fulfillment.Ship(ctx, app.Actor{UserID: "seller-9", Roles: []app.Role{app.RoleSeller}}, unpaid.ID())
	wantCode(t, err, "not_order_seller")
	_, err = f.app.Fulfillment.Deliver(ctx, admin, f.paidOrder(t, 1).ID())
	wantCode(t, err, "order_not_deliverable")

	cash := f.place(t, payment.MethodCash, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	if _, err := f.app.Fulfillment.Ship(ctx, seller, cash.ID()); err != nil {
		t.Fatalf("seller ships: %v", err)
	}
	got, err := f.app.Fulfillment.Deliver(ctx, seller, cash.ID())
	if err != nil || got.Status() != order.StatusDelivered || got.Payment().Status() != payment.StatusPaid {
		t.Fatalf("deliver cash order: got %v, %v", got, err)
	}
	types := f.publishedTypes()
	for _, want := range []string{events.TopicOrderShipped, events.TopicOrderDelivered, events.TopicOrderPaid} {
		if !slices.Contains(types, want) {
			t.Fatalf("events %v lack %s", types, want)
		}
	}
}

func TestDisputesShowOnTheOrderAndCloseForward(t *testing.T) {
	f := newFixture(t)
	o := f.paidOrder(t, 1)
	ctx := context.Background()
	send := func(id string, typ payment.EventType, status string) {
		t.Helper()
		ev := payment.Event{ID: id, Type: typ, IntentID: o.Payment().IntentID(),
			Dispute: &payment.DisputeReport{Status: status, Reason: "fraudulent", Amount: o.Total().Minor(), Currency: "usd"}}
		if _, err := f.store.Webhooks().Record(ctx, app.InboxEntry{Event: ev, ReceivedAt: testNow}); err != nil {
			t.Fatal(err)
		}
		if err := f.app.Webhooks.Dispatch(ctx, ev); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	send("evt_d1", payment.EventDisputeCreated, "needs_response")
	send("evt_d2", payment.EventDisputeClosed, "lost")
	send("evt_d0", payment.EventDisputeCreated, "warning_needs_response") // late and out of order
	d := f.get(t, o.ID()).Dispute()
	if d == nil || d.Status != "lost" || d.Reason != "fraudulent" {
		t.Fatalf("got dispute %+v", d)
	}
	if n := countType(f.publishedTypes(), events.TopicOrderDisputed); n != 2 {
		t.Fatalf("got %d orders.disputed events; want 2", n)
	}
}

func TestFailedWebhooksAreListedAndReplayed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	f.gateway.FailGet(app.ErrProviderUnavailable) // the provider is down while the event is processed
	payload := []byte("evt_x payment_intent.succeeded " + o.Payment().IntentID())
	f.webhook(t, string(payload)) // acknowledged: the provider is not kept waiting
	failed, _, err := f.app.Webhooks.List(ctx, admin, app.InboxQuery{Status: app.InboxFailed})
	if err != nil || len(failed) != 1 || failed[0].Event.ID != "evt_x" || failed[0].Attempts != 1 {
		t.Fatalf("got %+v, %v", failed, err)
	}
	_, err = f.app.Webhooks.Replay(ctx, customer, "evt_x")
	wantCode(t, err, "forbidden")
	f.gateway.FailGet(nil)
	if _, err := f.app.Webhooks.Replay(ctx, admin, "evt_x"); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if got := f.get(t, o.ID()); !got.Payment().IsPaid() {
		t.Fatal("the replayed event did not pay the order")
	}
	if failed, _, _ := f.app.Webhooks.List(ctx, admin, app.InboxQuery{Status: app.InboxFailed}); len(failed) != 0 {
		t.Fatalf("a processed event is still listed as failed: %+v", failed)
	}
}

func countType(types []string, want string) int {
	n := 0
	for _, t := range types {
		if t == want {
			n++
		}
	}
	return n
}

func TestRequestFulfillmentIsRecordedOnceForConfirmedOrders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	paid := f.paidOrder(t, 1)
	unpaid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	for range 2 {
		for _, id := range []string{paid.ID(), unpaid.ID()} {
			if err := f.app.Fulfillment.RequestFulfillment(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(o *order.Order) int {
		n := 0
		for _, c := range o.Timeline() {
			if c.Type == order.ChangeFulfillmentRequested {
				n++
			}
		}
		return n
	}
	if got := count(f.get(t, paid.ID())); got != 1 {
		t.Fatalf("paid order: got %d fulfillment requests; want 1", got)
	}
	if got := count(f.get(t, unpaid.ID())); got != 0 {
		t.Fatalf("unpaid order: got %d fulfillment requests; want 0", got)
	}
}

func TestTwoReconcilersAtOnceExpireEachOrderOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 2}).Order.ID())
	}
	f.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	for range 2 { // two replicas, one database
		wg.Go(func() {
			if _, err := f.app.Reconciler.RunOnce(ctx); err != nil {
				t.Errorf("reconciler: %v", err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if got := f.get(t, id); got.Status() != order.StatusCancelled {
			t.Fatalf("order %s: got %s; want Cancelled", id, got.Status())
		}
	}
	if got := f.stock("p1"); got != 10 {
		t.Fatalf("stock: got %d; want 10 (each order's 2 units back exactly once)", got)
	}
	if n := countType(f.publishedTypes(), events.TopicOrderCancelled); n != 5 {
		t.Fatalf("got %d orders.cancelled events; want 5", n)
	}
}

// TestReconcilerTakesTheAwaitingOrdersInTurn: orders that stay awaiting payment (declined cards,
// until their TTL) never keep newer ones from their turn — each pass looks at the batch after the
// previous pass's, and starts from the oldest again after the newest.
func TestReconcilerTakesTheAwaitingOrdersInTurn(t *testing.T) {
	f := newFixture(t)
	f.deps.Reconciler.Batch = 1
	f.app = *app.New(f.deps)
	ctx := context.Background()
	declined := []*order.Order{
		f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order,
		f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order,
	}
	paid := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(paid) // its webhook is never delivered
	f.clock.Advance(6 * time.Minute)

	for pass, wantPaid := range []int{0, 0, 1, 0} { // the declined, the declined, the paid, the first again
		rep, err := f.app.Reconciler.RunOnce(ctx)
		if err != nil || rep.Checked != 1 || rep.Paid != wantPaid {
			t.Fatalf("pass %d: %+v, %v; want one order checked, %d paid", pass+1, rep, err, wantPaid)
		}
	}
	if got := f.get(t, paid.ID()); got.Payment().Status() != payment.StatusPaid {
		t.Errorf("the order behind %d declined ones: %s; want paid", len(declined), got.Payment().Status())
	}
}
