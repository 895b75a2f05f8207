package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// t0 is the suites' clock; it has microseconds, the precision every store keeps.
var t0 = time.Date(2026, 11, 24, 10, 30, 15, 123456000, time.UTC)

// racers is how many goroutines the suites race for one thing.
const racers = 20

var errBoom = errors.New("porttest: boom")

func usd(t testing.TB, minor int64) money.Money {
	t.Helper()
	m, err := money.New(minor, money.USD)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newProduct is product id with stock units, not yet stored.
func newProduct(t *testing.T, id string, stock int64) *catalog.Product {
	t.Helper()
	p, err := catalog.NewProduct(id, "seller-1", "Product "+id, usd(t, 22649), stock, "https://img.example/"+id+".jpg", t0)
	if err != nil {
		t.Fatalf("new product: %v", err)
	}
	return p
}

func addProduct(t *testing.T, store app.Repositories, id string, stock int64) *catalog.Product {
	t.Helper()
	p := newProduct(t, id, stock)
	if err := store.Products().Add(context.Background(), p); err != nil {
		t.Fatalf("add product %s: %v", id, err)
	}
	return p
}

// orderSpec varies what placeOrder builds; its zero fields mean a card order of customer-1 at t0.
type orderSpec struct {
	id, customer string
	method       payment.Method
	at           time.Time
}

// placeOrder places (without storing) an order of products, one more unit of each next one; a
// card order pays through intent pi_<id>.
func placeOrder(t *testing.T, spec orderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	spec = spec.withDefaults()
	lines := make([]order.Line, 0, len(products))
	for i, p := range products {
		lines = append(lines, order.Line{Product: p, Quantity: int64(i + 1)})
	}
	o, err := order.Place(order.PlaceParams{ID: spec.id, Number: "WX-" + spec.id, CustomerID: spec.customer,
		PaymentID: "pay-" + spec.id, Lines: lines,
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", MiddleName: "Ivanivna",
			PhoneNumber: "+380501234567", Email: "olena@example.com"},
		Delivery: order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk",
			HouseNumber: "22"},
		DeliveryFee: usd(t, 700), Method: spec.method, Now: spec.at})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	if spec.method == payment.MethodCard {
		if err := o.AttachIntent("sandbox", "pi_"+spec.id); err != nil {
			t.Fatalf("attach intent: %v", err)
		}
	}
	return o
}

func (s orderSpec) withDefaults() orderSpec {
	if s.method == "" {
		s.method = payment.MethodCard
	}
	if s.at.IsZero() {
		s.at = t0
	}
	if s.customer == "" {
		s.customer = "customer-1"
	}
	return s
}

func addOrder(t *testing.T, store app.Repositories, spec orderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	o := placeOrder(t, spec, products...)
	if err := store.Orders().Add(context.Background(), o); err != nil {
		t.Fatalf("add order %s: %v", o.ID(), err)
	}
	return o
}

// succeeded is the provider's report that o's intent was paid in full.
func succeeded(o *order.Order) payment.Intent {
	return payment.Intent{ID: o.Payment().IntentID(), Amount: o.Total().Minor(),
		Currency: o.Total().Currency().Code(), Status: payment.IntentSucceeded, OrderID: o.ID()}
}

// parallel runs fn n times at once and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winners counts the racers that succeeded; every other one must have failed with loser.
func winners(t *testing.T, errs []error, loser error) int {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loser):
			t.Errorf("a losing racer failed with %v; want %v", err, loser)
		}
	}
	return won
}

func assertNoErrors(t *testing.T, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent calls failed: %v", err)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
