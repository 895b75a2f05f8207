package porttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// NotifierFeatures say what a notifier promises beyond the port.
type NotifierFeatures struct {
	// ReadsTheOrder: the notifier looks the order up (for the recipient's address and the order's
	// number), so a notification about an order it cannot find fails and sends nothing.
	ReadsTheOrder bool
}

// OrderReader finds the orders notifications are about (app.OrderRepository is one).
type OrderReader interface {
	Get(ctx context.Context, id string) (*order.Order, error)
}

// OpenNotifier returns a fresh notifier that finds orders through orders, and the reader of what
// it delivered.
type OpenNotifier func(t *testing.T, orders OrderReader) (app.Notifier, Delivered)

// Delivered returns the messages delivered so far as text, one each (an e-mail, a log line, a
// record), in any order.
type Delivered func(t *testing.T) []string

// deliveryDeadline bounds how long a delivery may take to show (a mail server prints it later).
const deliveryDeadline = 5 * time.Second

// RunNotifier runs the notifier suite: every kind of notification is delivered once, as its own
// message naming its order, also when many are sent at once; a notifier that reads the order
// fails, sending nothing, for an order it cannot find.
func RunNotifier(t *testing.T, open OpenNotifier, f NotifierFeatures) {
	t.Run("every kind is delivered, naming its order", func(t *testing.T) {
		o := notifiedOrder(t, "o-notify")
		n, delivered := open(t, ordersOf(o))
		for i, kind := range app.NotificationKinds() {
			err := n.Notify(context.Background(), app.Notification{Kind: kind, EventID: fmt.Sprintf("evt-%d", i),
				OrderID: o.ID(), CustomerID: o.CustomerID()})
			if err != nil {
				t.Fatalf("Notify(%s): %v", kind, err)
			}
		}
		got := awaitDeliveries(t, delivered, len(app.NotificationKinds()))
		seen := map[string]bool{}
		for _, msg := range got {
			if !strings.Contains(msg, o.ID()) && !strings.Contains(msg, o.Number()) {
				t.Errorf("a message names neither the order's id nor its number:\n%s", msg)
			}
			if seen[msg] {
				t.Errorf("two kinds of notification delivered the same message:\n%s", msg)
			}
			seen[msg] = true
		}
	})

	t.Run("notifications sent at once are each delivered", func(t *testing.T) {
		const many = 8
		orders := make(ordersByID, many)
		for _, id := range ids(many, "o-many") {
			orders[id] = notifiedOrder(t, id)
		}
		n, delivered := open(t, orders)
		errs := Parallel(many, func(i int) error {
			o := orders[ids(many, "o-many")[i]]
			return n.Notify(context.Background(), app.Notification{Kind: app.NotifyOrderConfirmed,
				EventID: "evt-" + o.ID(), OrderID: o.ID(), CustomerID: o.CustomerID()})
		})
		assertNoErrors(t, errs)
		awaitDeliveries(t, delivered, many)
	})

	if !f.ReadsTheOrder {
		return
	}
	t.Run("an order it cannot find fails and sends nothing", func(t *testing.T) {
		n, delivered := open(t, ordersByID{})
		err := n.Notify(context.Background(), app.Notification{Kind: app.NotifyOrderConfirmed, EventID: "evt-x",
			OrderID: "o-missing", CustomerID: "customer-1"})
		if err == nil {
			t.Error("a notification about a missing order was reported as sent")
		}
		if got := delivered(t); len(got) != 0 {
			t.Errorf("delivered %q; want nothing", got)
		}
	})
}

// awaitDeliveries waits until delivered shows want messages, and checks that it shows no more.
func awaitDeliveries(t *testing.T, delivered Delivered, want int) []string {
	t.Helper()
	got := delivered(t)
	for deadline := time.Now().Add(deliveryDeadline); len(got) < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		got = delivered(t)
	}
	if len(got) != want {
		t.Fatalf("%d messages delivered; want %d", len(got), want)
	}
	return got
}

// notifiedOrder is a paid card order of customer-1, ready to be notified about.
func notifiedOrder(t *testing.T, id string) *order.Order {
	t.Helper()
	o := PlaceOrder(t, OrderSpec{ID: id, Method: payment.MethodCard}, NewProduct(t, "p-"+id, 5))
	if _, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt-paid-"+id), t0); err != nil {
		t.Fatalf("pay: %v", err)
	}
	return o
}

// ordersByID is an OrderReader over a few orders.
type ordersByID map[string]*order.Order

func ordersOf(orders ...*order.Order) ordersByID {
	out := ordersByID{}
	for _, o := range orders {
		out[o.ID()] = o
	}
	return out
}

func (m ordersByID) Get(_ context.Context, id string) (*order.Order, error) {
	if o, ok := m[id]; ok {
		return o, nil
	}
	return nil, order.ErrNotFound
}
