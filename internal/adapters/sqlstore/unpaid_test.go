package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// countingGateway is the sandbox counting the intents checkout opens and cancels.
type countingGateway struct {
	*sandbox.Gateway
	created, cancelled atomic.Int64
}

func (g *countingGateway) CreateIntent(ctx context.Context, req app.IntentRequest) (payment.Intent, error) {
	g.created.Add(1)
	return g.Gateway.CreateIntent(ctx, req)
}

func (g *countingGateway) CancelIntent(ctx context.Context, id string) (payment.Intent, error) {
	g.cancelled.Add(1)
	return g.Gateway.CancelIntent(ctx, id)
}

// Invariant 10 through the real checkout on the real databases: one customer fires a burst of card
// checkouts at once, and however they interleave, no more than the cap commit. Every refused one
// gets the stable code, and its payment intent is cancelled.
func TestUnpaidCapHoldsUnderAConcurrentBurst_SQLiteAndPostgres(t *testing.T) {
	cases := []struct {
		name  string
		cap   app.UnpaidCap
		units int64
		wins  int
	}{
		{"orders bound", app.UnpaidCap{MaxOrders: 3, MaxUnits: 1000}, 1, 3},
		{"units bound", app.UnpaidCap{MaxOrders: 100, MaxUnits: 10}, 3, 3},
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				const burst = 16
				product, customer := addProduct(t, tdb, fmt.Sprintf("p-burst-%d", i), 1000), fmt.Sprintf("hoarder-%d", i)
				gateway := &countingGateway{Gateway: sandbox.New(sandbox.Config{Logger: slog.New(slog.DiscardHandler)})}
				checkout := app.NewPlaceOrderHandler(app.NewUnitOfWork(tdb.store), oneProvider(t, gateway, lineVerifier{}), app.Pricing{Currency: money.USD},
					app.SystemClock{}, slog.New(slog.DiscardHandler)).CapUnpaid(c.cap)
				errs := parallel(burst, func(n int) error {
					_, err := checkout.Handle(context.Background(), checkoutOf(customer, product.ID(), c.units, payment.MethodCard))
					return err
				})
				won := winners(t, errs, app.ErrUnpaidReservationsExceeded)
				held, err := tdb.store.Orders().UnpaidCardHolding(context.Background(), customer)
				if err != nil || won != c.wins || held != (app.UnpaidHolding{Orders: c.wins, Units: int64(c.wins) * c.units}) {
					t.Fatalf("%d of %d checkouts won, holding %+v (%v); want exactly %d", won, burst, held, err, c.wins)
				}
				assertStored(t, tdb, product.ID(), 1000-held.Units, c.wins)
				if open := gateway.created.Load() - gateway.cancelled.Load(); open != int64(c.wins) {
					t.Errorf("%d intents stay open; want %d (one per stored order)", open, c.wins)
				}
			})
		}
	})
}

// checkoutOf is customer's checkout of qty units of one product, delivered by courier.
func checkoutOf(customer, productID string, qty int64, method payment.Method) app.PlaceOrder {
	return app.PlaceOrder{
		Actor: app.Actor{UserID: customer, Roles: []app.Role{app.RoleCustomer}},
		Lines: []app.LineRequest{{ProductID: productID, Quantity: qty}},
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567",
			Email: "olena@example.com"},
		Delivery: order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"},
		Method:   method}
}
