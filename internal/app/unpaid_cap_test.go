package app_test

import (
	"context"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestUnpaidCapRefusesTheOrderPastItAndChangesNothing(t *testing.T) {
	cases := []struct {
		name    string
		cap     app.UnpaidCap
		held    []int64 // units of the unpaid card orders placed first
		refused int64   // units of the order that is refused
		fits    int64   // units of an order that still fits after the refusal
	}{
		{"orders", app.UnpaidCap{MaxOrders: 2, MaxUnits: 50}, []int64{1, 1}, 1, 0},
		{"units", app.UnpaidCap{MaxOrders: 5, MaxUnits: 5}, []int64{4}, 2, 1},
		{"one order above the units cap", app.UnpaidCap{MaxOrders: 5, MaxUnits: 5}, nil, 6, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.app.PlaceOrder.CapUnpaid(c.cap)
			for _, units := range c.held {
				f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: units})
			}
			orders, intents, stock := f.orderCount(), f.gateway.Created(), f.stock("p1")
			_, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: customer,
				Lines: []app.LineRequest{{ProductID: "p1", Quantity: c.refused}}, Recipient: recipient, Delivery: courier, Method: payment.MethodCard})
			wantCode(t, err, app.ErrUnpaidReservationsExceeded.Code)
			if f.orderCount() != orders || f.gateway.Created() != intents || f.stock("p1") != stock {
				t.Fatalf("a refused order changed something: orders %d→%d, intents %d→%d, stock %d→%d",
					orders, f.orderCount(), intents, f.gateway.Created(), stock, f.stock("p1"))
			}
			if c.fits > 0 {
				f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: c.fits})
			}
		})
	}
}

func TestUnpaidCapCountsOnlyTheCustomersUnpaidCardOrders(t *testing.T) {
	f := newFixture(t)
	f.app.PlaceOrder.CapUnpaid(app.UnpaidCap{MaxOrders: 1, MaxUnits: 3})
	first := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 3})

	f.place(t, payment.MethodCash, app.LineRequest{ProductID: "p1", Quantity: 3}) // cash is Confirmed at once: never capped
	if _, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: stranger,
		Lines: []app.LineRequest{{ProductID: "p1", Quantity: 1}}, Recipient: recipient, Delivery: courier, Method: payment.MethodCard}); err != nil {
		t.Fatalf("another customer was capped by this one's orders: %v", err)
	}
	_, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: customer,
		Lines: []app.LineRequest{{ProductID: "p1", Quantity: 1}}, Recipient: recipient, Delivery: courier, Method: payment.MethodCard})
	wantCode(t, err, app.ErrUnpaidReservationsExceeded.Code)

	if _, err := f.app.Cancel.Handle(context.Background(), app.CancelOrder{Actor: customer, OrderID: first.Order.ID()}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}) // the cancelled order holds nothing any more
}
