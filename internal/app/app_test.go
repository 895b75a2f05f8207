package app_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

var (
	customer  = app.Actor{UserID: "cust-1", Roles: []app.Role{app.RoleCustomer}}
	stranger  = app.Actor{UserID: "cust-2", Roles: []app.Role{app.RoleCustomer}}
	admin     = app.Actor{UserID: "admin-1", Roles: []app.Role{app.RoleAdmin}}
	seller    = app.Actor{UserID: "seller-1", Roles: []app.Role{app.RoleSeller}}
	testNow   = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	recipient = order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567", Email: "olena@example.com"}
	courier   = order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"}
)

type fixture struct {
	store    *memory.Store
	gateway  *memory.Gateway
	clock    *memory.Clock
	observed *recordingObserver
	deps     app.Dependencies // what app was built from
	app      app.Application
}

// newFixture builds the application on fakes with two products: "p1" at 226.49 (10 in stock)
// and "p2" at 0.50 (1 in stock); courier delivery costs 7.00.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, gw := memory.NewStore(), memory.NewGateway("fake")
	clock, log := memory.NewClock(testNow), slog.New(slog.NewTextHandler(io.Discard, nil))
	pricing := app.Pricing{Currency: money.USD, Fees: map[order.DeliveryMethod]money.Money{order.DeliveryCourier: usd(700)}}
	observed := &recordingObserver{}
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: gw, Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, gateway: gw, clock: clock, observed: observed, deps: app.Dependencies{Store: store,
		Providers: providers, Pricing: pricing, Clock: clock, Log: log, Observer: observed,
		Reconciler: app.ReconcilerConfig{After: 5 * time.Minute, TTL: 30 * time.Minute}}}
	f.app = *app.New(f.deps)
	for _, p := range []struct {
		id    string
		price int64
		stock int64
	}{{"p1", 22649, 10}, {"p2", 50, 1}} {
		prod, err := catalog.NewProduct(p.id, "seller-1", "Product "+p.id, usd(p.price), p.stock, "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Products().Add(context.Background(), prod); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) place(t *testing.T, method payment.Method, lines ...app.LineRequest) app.PlacedOrder {
	t.Helper()
	res, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: customer, Lines: lines,
		Recipient: recipient, Delivery: courier, Method: method})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	return res
}

// stock is what the store holds of product id.
func (f *fixture) stock(id string) int64 {
	p, err := f.store.Products().Get(context.Background(), id)
	if err != nil {
		panic(err)
	}
	return p.Stock()
}

// orderCount is how many orders the store holds.
func (f *fixture) orderCount() int {
	orders, _, err := f.store.Orders().List(context.Background(), app.OrderQuery{Limit: 1000})
	if err != nil {
		panic(err)
	}
	return len(orders)
}

// publishedTypes are the topics of the events committed so far, in order.
func (f *fixture) publishedTypes() []string {
	var types []string
	for _, ev := range f.store.Published() {
		types = append(types, ev.Type)
	}
	return types
}

func (f *fixture) succeed(o *order.Order) {
	f.gateway.Set(o.Payment().IntentID(), func(in *payment.Intent) { in.Status = payment.IntentSucceeded })
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != code {
		t.Fatalf("got error %v; want fault %q", err, code)
	}
}

func TestPlaceCardOrderPricesOnTheServerAndReserves(t *testing.T) {
	f := newFixture(t)
	res := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 2})
	if got, want := res.Order.Total().Minor(), int64(2*22649+700); got != want {
		t.Fatalf("total: got %d; want %d", got, want)
	}
	if res.ClientSecret == "" || res.Order.Status() != order.StatusPending || res.Order.Payment().Status() != payment.StatusPending {
		t.Fatalf("got secret %q, status %s/%s", res.ClientSecret, res.Order.Status(), res.Order.Payment().Status())
	}
	in, _ := f.gateway.GetIntent(context.Background(), res.Order.Payment().IntentID())
	if in.Amount != res.Order.Total().Minor() || in.OrderID != res.Order.ID() {
		t.Fatalf("intent: got amount %d order %q", in.Amount, in.OrderID)
	}
	if got := f.stock("p1"); got != 8 {
		t.Fatalf("stock: got %d; want 8", got)
	}
	if got := f.publishedTypes(); !slices.Equal(got, []string{events.TopicOrderCreated}) {
		t.Fatalf("events: got %v", got)
	}
}

func TestPlaceCashOrderIsConfirmedWithoutIntent(t *testing.T) {
	f := newFixture(t)
	res := f.place(t, payment.MethodCash, app.LineRequest{ProductID: "p1", Quantity: 1})
	if res.ClientSecret != "" || res.Order.Status() != order.StatusConfirmed || f.gateway.Created() != 0 {
		t.Fatalf("got secret %q status %s intents %d", res.ClientSecret, res.Order.Status(), f.gateway.Created())
	}
}

func TestPlaceOrderRejectsBadInputAndChangesNothing(t *testing.T) {
	cases := []struct {
		name  string
		actor app.Actor
		lines []app.LineRequest
		code  string
	}{
		{"admin cannot shop", admin, []app.LineRequest{{ProductID: "p1", Quantity: 1}}, "forbidden"},
		{"no items", customer, nil, "items_empty"},
		{"unknown product", customer, []app.LineRequest{{ProductID: "nope", Quantity: 1}}, "product_unknown"},
		{"zero quantity", customer, []app.LineRequest{{ProductID: "p1", Quantity: 0}}, "quantity_invalid"},
		{"negative quantity", customer, []app.LineRequest{{ProductID: "p1", Quantity: -3}}, "quantity_invalid"},
		{"huge quantity", customer, []app.LineRequest{{ProductID: "p1", Quantity: 1 << 40}}, "quantity_invalid"},
		{"more than stock", customer, []app.LineRequest{{ProductID: "p2", Quantity: 2}}, "out_of_stock"},
		{"same product twice", customer, []app.LineRequest{{ProductID: "p1", Quantity: 1}, {ProductID: "p1", Quantity: 1}}, "duplicate_product"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: c.actor, Lines: c.lines,
				Recipient: recipient, Delivery: courier, Method: payment.MethodCard})
			wantCode(t, err, c.code)
			if f.orderCount() != 0 || f.gateway.Created() != 0 || f.stock("p1") != 10 || f.stock("p2") != 1 {
				t.Fatalf("bad input changed something: orders %d intents %d", f.orderCount(), f.gateway.Created())
			}
		})
	}
}

func TestPlaceOrderCancelsTheIntentWhenStockRunsOutMeanwhile(t *testing.T) {
	f := newFixture(t)
	f.store.FailNextCommit(catalog.ErrOutOfStock) // the last unit went to someone else after pricing
	_, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: customer,
		Lines: []app.LineRequest{{ProductID: "p2", Quantity: 1}}, Recipient: recipient, Delivery: courier, Method: payment.MethodCard})
	wantCode(t, err, "out_of_stock")
	if len(f.gateway.Cancelled()) != 1 || f.orderCount() != 0 || f.stock("p2") != 1 {
		t.Fatalf("got cancelled %v, orders %d, stock %d", f.gateway.Cancelled(), f.orderCount(), f.stock("p2"))
	}
}

func TestPlaceOrderWhenProviderIsDownStoresNothing(t *testing.T) {
	f := newFixture(t)
	f.gateway.FailCreate(app.ErrProviderUnavailable)
	_, err := f.app.PlaceOrder.Handle(context.Background(), app.PlaceOrder{Actor: customer,
		Lines: []app.LineRequest{{ProductID: "p1", Quantity: 1}}, Recipient: recipient, Delivery: courier, Method: payment.MethodCard})
	wantCode(t, err, "payment_provider_unavailable")
	if f.orderCount() != 0 || f.stock("p1") != 10 {
		t.Fatal("a failed provider call left an order or a reservation behind")
	}
}

func TestFinalizeIsForwardOnlyAndIdempotent(t *testing.T) {
	f := newFixture(t)
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	ctx := context.Background()
	intent := o.Payment().IntentID()

	f.gateway.Set(intent, func(in *payment.Intent) {
		in.LastErrorCode, in.LastErrorMessage = "card_declined", "Your card was declined."
	})
	res, err := f.app.Finalizer.Finalize(ctx, o.ID(), order.CauseReconciler)
	if err != nil || res.Outcome != payment.BecameFailed || res.Order.Payment().FailureCode() != "card_declined" {
		t.Fatalf("after decline: got %+v, %v", res, err)
	}
	f.succeed(o)
	for i := range 3 {
		res, err = f.app.Finalizer.Finalize(ctx, o.ID(), order.CauseReconciler)
		want := payment.Unchanged
		if i == 0 {
			want = payment.BecamePaid
		}
		if err != nil || res.Outcome != want {
			t.Fatalf("finalize #%d: got %v, %v; want %v", i, res.Outcome, err, want)
		}
	}
	if res.Order.Status() != order.StatusConfirmed || res.Order.Payment().Status() != payment.StatusPaid {
		t.Fatalf("got %s/%s", res.Order.Status(), res.Order.Payment().Status())
	}
	want := []string{events.TopicOrderCreated, events.TopicOrderPaymentFailed, events.TopicOrderPaid}
	if got := f.publishedTypes(); !slices.Equal(got, want) {
		t.Fatalf("events: got %v; want %v", got, want)
	}
}

func TestFinalizeRefusesAMismatchedIntentAndRaisesAnAnomaly(t *testing.T) {
	for name, tamper := range map[string]func(in *payment.Intent){
		"amount":   func(in *payment.Intent) { in.Amount-- },
		"currency": func(in *payment.Intent) { in.Currency = "EUR" },
		"order id": func(in *payment.Intent) { in.OrderID = "someone-else" },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
			f.gateway.Set(o.Payment().IntentID(), func(in *payment.Intent) { in.Status = payment.IntentSucceeded; tamper(in) })
			res, err := f.app.Finalizer.Finalize(context.Background(), o.ID(), order.CauseReconciler)
			if err != nil || res.Anomaly == nil || res.Order.Payment().IsPaid() {
				t.Fatalf("got %+v, %v; want an anomaly and no payment", res, err)
			}
			if got := f.publishedTypes(); !slices.Contains(got, events.TopicPaymentAnomaly) || slices.Contains(got, events.TopicOrderPaid) {
				t.Fatalf("events: got %v", got)
			}
			err = f.app.ConfirmPaid.Handle(context.Background(), app.ConfirmPaid{Actor: customer, OrderID: o.ID()})
			wantCode(t, err, "payment_not_completed")
		})
	}
}

// A webhook settles the order the re-read intent names only if that order holds the intent: an
// intent naming a missing order, or another customer's existing one, is settled on the order whose
// payment is on it, where the mismatch is an anomaly, and the named order is left alone.
func TestWebhookForAnIntentNamingAnotherOrderRaisesAnAnomaly(t *testing.T) {
	for name, named := range map[string]func(f *fixture) string{
		"missing order": func(*fixture) string { return "no-such-order" },
		"existing order": func(f *fixture) string {
			return f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order.ID()
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
			other := named(f)
			f.gateway.Set(o.Payment().IntentID(), func(in *payment.Intent) { in.Status = payment.IntentSucceeded; in.OrderID = other })
			f.webhook(t, "evt_1 payment_intent.succeeded "+o.Payment().IntentID())
			if got := f.publishedTypes(); !slices.Contains(got, events.TopicPaymentAnomaly) || slices.Contains(got, events.TopicOrderPaid) {
				t.Fatalf("events: got %v; want an anomaly and no payment", got)
			}
			if f.get(t, o.ID()).Payment().IsPaid() {
				t.Fatal("the order holding the mismatched intent was marked paid")
			}
			if named, err := f.app.Orders.Get(context.Background(), admin, other); err == nil && named.Version() != 0 {
				t.Fatalf("the order the intent named was changed (version %d)", named.Version())
			}
		})
	}
}

func TestConfirmPaid(t *testing.T) {
	ctx := context.Background()
	t.Run("card not yet paid is 409 and changes nothing", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		wantCode(t, f.app.ConfirmPaid.Handle(ctx, app.ConfirmPaid{Actor: customer, OrderID: o.ID()}), "payment_not_completed")
	})
	t.Run("card paid at the provider", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		f.succeed(o)
		for range 2 {
			if err := f.app.ConfirmPaid.Handle(ctx, app.ConfirmPaid{Actor: customer, OrderID: o.ID()}); err != nil {
				t.Fatalf("confirm: %v", err)
			}
		}
		if got := f.publishedTypes(); !slices.Equal(got, []string{events.TopicOrderCreated, events.TopicOrderPaid}) {
			t.Fatalf("events: got %v", got)
		}
	})
	t.Run("another customer's order does not exist", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		wantCode(t, f.app.ConfirmPaid.Handle(ctx, app.ConfirmPaid{Actor: stranger, OrderID: o.ID()}), "order_not_found")
	})
	t.Run("cash is collected by an admin, not by the customer", func(t *testing.T) {
		f := newFixture(t)
		o := f.place(t, payment.MethodCash, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
		wantCode(t, f.app.ConfirmPaid.Handle(ctx, app.ConfirmPaid{Actor: customer, OrderID: o.ID()}), "cash_collection_admin_only")
		if err := f.app.ConfirmPaid.Handle(ctx, app.ConfirmPaid{Actor: admin, OrderID: o.ID()}); err != nil {
			t.Fatalf("admin collect: %v", err)
		}
		got, _ := f.app.Orders.Get(ctx, customer, o.ID())
		if got.Payment().Status() != payment.StatusPaid || got.Status() != order.StatusConfirmed {
			t.Fatalf("got %s/%s", got.Status(), got.Payment().Status())
		}
	})
}

func TestWebhookDuplicatesActOnce(t *testing.T) {
	f := newFixture(t)
	o := f.place(t, payment.MethodCard, app.LineRequest{ProductID: "p1", Quantity: 1}).Order
	f.succeed(o)
	payload := "evt_1 payment_intent.succeeded " + o.Payment().IntentID()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.webhook(t, payload)
		}()
	}
	wg.Wait()
	f.webhook(t, "evt_2 payment_intent.payment_failed "+o.Payment().IntentID())
	if got := f.publishedTypes(); !slices.Equal(got, []string{events.TopicOrderCreated, events.TopicOrderPaid}) {
		t.Fatalf("events: got %v", got)
	}
}

func TestWebhookRejectsBadSignaturesAndAcknowledgesStrangers(t *testing.T) {
	f := newFixture(t)
	wantCode(t, f.app.Webhooks.Handle(context.Background(), "fake", []byte("evt_1 x y"), signature("forged")), "webhook_signature_invalid")
	f.webhook(t, "evt_9 payment_intent.succeeded pi_unknown")
	f.webhook(t, "evt_8 customer.created none")
	usd, _ := money.ParseCurrency("USD")
	amount, _ := money.New(100, usd)
	foreign, err := f.gateway.CreateIntent(context.Background(), app.IntentRequest{PaymentID: "pay-x", OrderID: "not-ours", Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	f.gateway.Set(foreign.ID, func(in *payment.Intent) { in.Status = payment.IntentSucceeded })
	f.webhook(t, "evt_7 payment_intent.succeeded "+foreign.ID)
	if len(f.publishedTypes()) != 0 {
		t.Fatal("an ignored event published something")
	}
	done, _, err := f.app.Webhooks.List(context.Background(), admin, app.InboxQuery{Status: app.InboxProcessed})
	if err != nil || len(done) != 3 {
		t.Fatalf("strangers' events: %d acknowledged (%v); want all 3, none left to retry", len(done), err)
	}
}

func TestCatalogOwnership(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.app.Catalog.CreateProduct(ctx, app.CreateProduct{Actor: customer, Title: "x", Price: "1", Currency: "USD", Stock: 1})
	wantCode(t, err, "forbidden")
	p, err := f.app.Catalog.CreateProduct(ctx, app.CreateProduct{Actor: seller, Title: "Lamp", Price: "12.30", Currency: "usd", Stock: 3})
	if err != nil || p.Price().Minor() != 1230 || p.SellerID() != seller.UserID {
		t.Fatalf("create: got %v, %v", p, err)
	}
	other := app.Actor{UserID: "seller-2", Roles: []app.Role{app.RoleSeller}}
	title := "Stolen"
	_, err = f.app.Catalog.UpdateProduct(ctx, app.UpdateProduct{Actor: other, ProductID: p.ID(), Title: &title})
	wantCode(t, err, "not_product_owner")
	price := "12.345"
	_, err = f.app.Catalog.UpdateProduct(ctx, app.UpdateProduct{Actor: seller, ProductID: p.ID(), Price: &price})
	wantCode(t, err, "price_invalid")
	got, _ := f.app.Catalog.GetProduct(ctx, p.ID())
	if got.Title() != "Lamp" || got.Price().Minor() != 1230 {
		t.Fatalf("a refused update changed the product: %s %d", got.Title(), got.Price().Minor())
	}
}
