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

// NewProduct is product id with stock units, not yet stored.
func NewProduct(t *testing.T, id string, stock int64) *catalog.Product {
	t.Helper()
	p, err := catalog.NewProduct(id, "seller-1", "Product "+id, usd(t, 22649), stock, "https://img.example/"+id+".jpg", t0)
	if err != nil {
		t.Fatalf("new product: %v", err)
	}
	return p
}

// AddProduct stores NewProduct(id, stock) in store.
func AddProduct(t *testing.T, store app.Repositories, id string, stock int64) *catalog.Product {
	t.Helper()
	p := NewProduct(t, id, stock)
	if err := store.Products().Add(context.Background(), p); err != nil {
		t.Fatalf("add product %s: %v", id, err)
	}
	return p
}

// OrderSpec varies what PlaceOrder builds; its zero fields mean a card order of customer-1 at
// 2026-11-24 10:30:15.123456 UTC.
type OrderSpec struct {
	ID, Customer string
	Method       payment.Method
	At           time.Time
}

// PlaceOrder places (without storing) an order of products, one more unit of each next one; a
// card order pays through intent pi_<id>.
func PlaceOrder(t *testing.T, spec OrderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	spec = spec.withDefaults()
	lines := make([]order.Line, 0, len(products))
	for i, p := range products {
		lines = append(lines, order.Line{Product: p, Quantity: int64(i + 1)})
	}
	o, err := order.Place(order.PlaceParams{ID: spec.ID, Number: "WX-" + spec.ID, CustomerID: spec.Customer,
		PaymentID: "pay-" + spec.ID, Lines: lines,
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", MiddleName: "Ivanivna",
			PhoneNumber: "+380501234567", Email: "olena@example.com"},
		Delivery: order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk",
			HouseNumber: "22"},
		DeliveryFee: usd(t, 700), Method: spec.Method, Now: spec.At})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	if spec.Method == payment.MethodCard {
		if err := o.AttachIntent("sandbox", "pi_"+spec.ID); err != nil {
			t.Fatalf("attach intent: %v", err)
		}
	}
	return o
}

func (s OrderSpec) withDefaults() OrderSpec {
	if s.Method == "" {
		s.Method = payment.MethodCard
	}
	if s.At.IsZero() {
		s.At = t0
	}
	if s.Customer == "" {
		s.Customer = "customer-1"
	}
	return s
}

// AddOrder stores PlaceOrder(spec, products...) in store.
func AddOrder(t *testing.T, store app.Repositories, spec OrderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	o := PlaceOrder(t, spec, products...)
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

// Parallel runs fn n times at once and returns the errors.
func Parallel(n int, fn func(i int) error) []error {
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

// Winners counts the racers that succeeded; every other one must have failed with loser.
func Winners(t *testing.T, errs []error, loser error) int {
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

// howManyTrue runs fn racers times at once and returns how many reported true; none may fail.
func howManyTrue(t *testing.T, fn func() (bool, error)) int {
	t.Helper()
	results := make([]bool, racers)
	assertNoErrors(t, Parallel(racers, func(i int) error {
		var err error
		results[i], err = fn()
		return err
	}))
	n := 0
	for _, ok := range results {
		if ok {
			n++
		}
	}
	return n
}

// inTx is fn run in a transaction of its own.
func inTx(store app.Store, fn func(ctx context.Context, tx app.StoreTx) (bool, error)) func() (bool, error) {
	return func() (ok bool, err error) {
		err = store.InTx(context.Background(), func(ctx context.Context, tx app.StoreTx) error {
			var err error
			ok, err = fn(ctx, tx)
			return err
		})
		return ok, err
	}
}

// allPages follows the cursors of list through every page (of at most limit items) and returns
// the items in the order listed.
func allPages[T any](t *testing.T, limit int, list func(after string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	for after, pages := "", 1; pages <= 100; pages++ {
		page, next, err := list(after)
		if err != nil || len(page) > limit {
			t.Fatalf("List after %q: %d items, %v; want at most %d", after, len(page), err, limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		after = next
	}
	t.Fatal("List never ended")
	return nil
}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
