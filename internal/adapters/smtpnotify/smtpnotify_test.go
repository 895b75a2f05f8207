package smtpnotify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

type ordersByID map[string]*order.Order

func (m ordersByID) Get(_ context.Context, id string) (*order.Order, error) {
	if o, ok := m[id]; ok {
		return o, nil
	}
	return nil, order.ErrNotFound
}

func placedOrder(t *testing.T) *order.Order {
	t.Helper()
	now := time.Now()
	price, _ := money.New(22649, money.USD)
	fee, _ := money.New(700, money.USD)
	p, err := catalog.NewProduct("p1", "s1", "Wireless headphones", price, 5, "", now)
	if err != nil {
		t.Fatal(err)
	}
	o, err := order.Place(order.PlaceParams{ID: "o1", Number: "WX-20261124-TEST", CustomerID: "c1", PaymentID: "pay1",
		Lines: []order.Line{{Product: p, Quantity: 2}}, DeliveryFee: fee, Method: payment.MethodCash, Now: now,
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567", Email: "olena@example.com"},
		Delivery:  order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestNotifySendsThroughARealSMTPServer(t *testing.T) {
	server := testenv.StartSMTP(t)
	o := placedOrder(t)
	n, err := New(server.URL, ordersByID{o.ID(): o})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []app.NotificationKind{app.NotifyOrderConfirmed, app.NotifyPaymentFailed, app.NotifyOrderRefunded} {
		if err := n.Notify(context.Background(), app.Notification{Kind: kind, OrderID: o.ID(), CustomerID: "c1"}); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(server.Received(), "END MESSAGE") < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := server.Received()
	for _, want := range []string{"To: <olena@example.com>", "Subject: Your Wolfix order WX-20261124-TEST",
		"Subject: Payment for your Wolfix order WX-20261124-TEST failed", "Subject: Refund for your Wolfix order WX-20261124-TEST",
		"From: <orders@wolfix.test>"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the server did not receive %q; it printed:\n%s", want, got)
		}
	}
}

func TestNotifyReportsFailuresSoTheConsumerRetries(t *testing.T) {
	o := placedOrder(t)
	n, err := New("smtp+insecure://127.0.0.1:1?from=orders@wolfix.test", ordersByID{o.ID(): o})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), app.Notification{Kind: app.NotifyOrderConfirmed, OrderID: o.ID()}); err == nil {
		t.Fatal("a closed SMTP port was reported as sent")
	}
	if err := n.Notify(context.Background(), app.Notification{Kind: app.NotifyOrderConfirmed, OrderID: "missing"}); err == nil {
		t.Fatal("a missing order was reported as sent")
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, raw := range []string{"http://mail.example.com?from=a@b.c", "smtp://mail.example.com", "smtp://mail.example.com:x?from=a@b.c", "::"} {
		if _, err := New(raw, ordersByID{}); err == nil {
			t.Errorf("New(%q) succeeded; want an error", raw)
		}
	}
}
