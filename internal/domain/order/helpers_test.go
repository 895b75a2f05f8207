package order_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

var (
	t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
	t2 = t0.Add(2 * time.Minute)
)

func validRecipient() order.Recipient {
	return order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567", Email: "olena@example.com"}
}

func validDelivery() order.Delivery {
	return order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"}
}

func mustMoney(t testing.TB, minor int64, c money.Currency) money.Money {
	t.Helper()
	m, err := money.New(minor, c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// product builds a stored product; Restore skips validation so tests can reach prices that
// NewProduct would refuse.
func product(id string, price money.Money) *catalog.Product {
	return catalog.Restore(id, "seller-"+id, "Product "+id, price, 1_000_000, "", t0, t0)
}

func params(t testing.TB, method payment.Method, lines ...order.Line) order.PlaceParams {
	return order.PlaceParams{ID: "o1", Number: "WX-1", CustomerID: "c1", PaymentID: "pay1", Lines: lines,
		Recipient: validRecipient(), Delivery: validDelivery(), DeliveryFee: mustMoney(t, 700, money.USD),
		Method: method, Now: t0}
}

func place(t testing.TB, method payment.Method) *order.Order {
	t.Helper()
	o, err := order.Place(params(t, method,
		order.Line{Product: product("p1", mustMoney(t, 22649, money.USD)), Quantity: 2}))
	if err != nil {
		t.Fatalf("Place: %v", err)
	}
	return o
}

// placeCard places a card order with an attached intent pi_1 and a total of 459.98 USD.
func placeCard(t testing.TB) *order.Order {
	t.Helper()
	o := place(t, payment.MethodCard)
	if err := o.AttachIntent("sandbox", "pi_1"); err != nil {
		t.Fatalf("AttachIntent: %v", err)
	}
	return o
}

func okIntent(o *order.Order, st payment.IntentStatus) payment.Intent {
	return payment.Intent{ID: "pi_1", Amount: o.Total().Minor(), Currency: o.Total().Currency().Code(),
		Status: st, OrderID: o.ID()}
}

func lines(t testing.TB, n int, c money.Currency) []order.Line {
	out := make([]order.Line, n)
	for i := range out {
		out[i] = order.Line{Product: product("p"+strconv.Itoa(i), mustMoney(t, 100, c)), Quantity: 1}
	}
	return out
}
