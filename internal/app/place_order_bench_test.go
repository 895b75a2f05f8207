package app_test

// Benchmarks of the two hot use cases, PlaceOrder and FinalizePayment, through the app layer over
// the real adapters: sqlstore (SQLite file or PostgreSQL), the watermill outbox and the sandbox
// gateway. They print ns/op, allocations and orders/s; they assert no speed. The Postgres ones say
// so in their name, use a fresh database from testenv and, like the tests, fail under CI=true when
// PostgreSQL is missing. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/app/
//	go test -run '^$' -bench 'PlaceOrderPostgres' -benchmem ./internal/app/

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// benchParallelism multiplies GOMAXPROCS into the number of goroutines RunParallel uses, so that
// checkouts contend for the one product row as concurrent customers would.
const benchParallelism = 4

func BenchmarkPlaceOrderSQLite(b *testing.B)   { benchPlaceOrder(b, sqliteDB) }
func BenchmarkPlaceOrderPostgres(b *testing.B) { benchPlaceOrder(b, postgresDB) }

func BenchmarkFinalizePaymentSQLite(b *testing.B)   { benchFinalize(b, sqliteDB) }
func BenchmarkFinalizePaymentPostgres(b *testing.B) { benchFinalize(b, postgresDB) }

// benchPlaceOrder places orders of one unit of one big-stock product from parallel goroutines:
// each order is one product read, (for card) one sandbox intent, and one transaction that reserves
// stock, inserts the order and writes orders.created to the outbox.
func benchPlaceOrder(b *testing.B, open func(testing.TB) (*sqlstore.Store, func())) {
	for _, method := range []payment.Method{payment.MethodCash, payment.MethodCard} {
		b.Run(string(method), func(b *testing.B) {
			env := newBenchEnv(b, open)
			cmd := env.checkout(method)
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := env.app.PlaceOrder.Handle(ctx, cmd); err != nil {
						b.Errorf("place order: %v", err)
						return
					}
				}
			})
			reportRate(b, "orders/s")
		})
	}
}

// benchFinalize finalizes b.N card orders whose intents the sandbox already marked succeeded, as
// PATCH /paid does: read the order, re-read the intent, lock, apply, write orders.paid. Placing
// and confirming the orders happens before the timer starts.
func benchFinalize(b *testing.B, open func(testing.TB) (*sqlstore.Store, func())) {
	env := newBenchEnv(b, open)
	ctx := context.Background()
	cmd := env.checkout(payment.MethodCard)
	ids := make([]string, b.N)
	for i := range ids {
		placed, err := env.app.PlaceOrder.Handle(ctx, cmd)
		if err != nil {
			b.Fatalf("place order: %v", err)
		}
		in := placed.Order.Payment().IntentID()
		if _, err := env.gateway.Confirm(ctx, in, placed.ClientSecret, "4242 4242 4242 4242"); err != nil {
			b.Fatalf("confirm intent: %v", err)
		}
		ids[i] = placed.Order.ID()
	}
	cause := order.CauseClientConfirm(benchCustomer)
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range ids {
		res, err := env.app.Finalizer.Finalize(ctx, id, cause)
		if err != nil {
			b.Fatalf("finalize: %v", err)
		}
		if res.Outcome != payment.BecamePaid {
			b.Fatalf("outcome = %v; want %v", res.Outcome, payment.BecamePaid)
		}
	}
	reportRate(b, "payments/s")
}

const benchCustomer = "bench-customer"

// benchEnv is the application over real adapters, with one product that never runs out.
type benchEnv struct {
	app       *app.Application
	gateway   *sandbox.Gateway
	productID string
}

func newBenchEnv(b *testing.B, open func(testing.TB) (*sqlstore.Store, func())) *benchEnv {
	return newBenchEnvWith(b, open, nil) // events dropped: no webhook in these benchmarks
}

// newBenchEnvWith is newBenchEnv whose sandbox sends its events to events, and whose webhooks are
// verified with benchWebhookSecret.
func newBenchEnvWith(b *testing.B, open func(testing.TB) (*sqlstore.Store, func()), events sandbox.EventSink) *benchEnv {
	b.Helper()
	store, closeDB := open(b)
	b.Cleanup(closeDB)
	log := slog.New(slog.DiscardHandler)
	gateway := sandbox.New(sandbox.Config{Logger: log, Events: events})
	verifier, err := stripe.NewVerifier(benchWebhookSecret)
	if err != nil {
		b.Fatal(err)
	}
	usd := func(minor int64) money.Money {
		m, err := money.New(minor, money.USD)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: gateway, Verifier: verifier})
	if err != nil {
		b.Fatal(err)
	}
	application := app.New(app.Dependencies{Store: store, Providers: providers, Pricing: app.Pricing{
		Currency: money.USD, Fees: map[order.DeliveryMethod]money.Money{order.DeliveryCourier: usd(700)}},
		Clock: app.SystemClock{}, Log: log, Reconciler: app.ReconcilerConfig{After: time.Hour, TTL: time.Hour}})
	p, err := catalog.NewProduct(app.NewID(), "bench-seller", "Benchmark widget", usd(1999), catalog.MaxStock, "", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Products().Add(context.Background(), p); err != nil {
		b.Fatalf("add product: %v", err)
	}
	return &benchEnv{app: application, gateway: gateway, productID: p.ID()}
}

func (e *benchEnv) checkout(method payment.Method) app.PlaceOrder {
	return app.PlaceOrder{
		Actor:  app.Actor{UserID: benchCustomer, Roles: []app.Role{app.RoleCustomer}},
		Lines:  []app.LineRequest{{ProductID: e.productID, Quantity: 1}},
		Method: method,
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567",
			Email: "olena@example.com"},
		Delivery: order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"},
	}
}

// sqliteDB opens a migrated SQLite file in the benchmark's temp dir with the real outbox.
func sqliteDB(tb testing.TB) (*sqlstore.Store, func()) {
	return openBenchStore(tb, "", tb.TempDir())
}

// postgresDB opens a fresh, migrated PostgreSQL database (dropped at cleanup) with the real outbox.
func postgresDB(tb testing.TB) (*sqlstore.Store, func()) {
	return openBenchStore(tb, testenv.PostgresURL(tb), "")
}

func openBenchStore(tb testing.TB, url, dir string) (*sqlstore.Store, func()) {
	tb.Helper()
	ctx := context.Background()
	db, dialect, err := sqlstore.Open(ctx, url, dir)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	if _, err := sqlstore.Migrate(ctx, db, dialect); err != nil {
		_ = db.Close()
		tb.Fatalf("migrate: %v", err)
	}
	opener, err := outbox.NewOpener(string(dialect), slog.New(slog.DiscardHandler))
	if err != nil {
		_ = db.Close()
		tb.Fatalf("outbox: %v", err)
	}
	return sqlstore.NewStore(db, dialect, sqlstore.OutboxOpener(opener)), func() { _ = db.Close() }
}

// reportRate reports b.N operations over the timed part of the benchmark as a rate.
func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}
