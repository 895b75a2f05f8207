package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// The repository suite runs every test on each dialect, each on a fresh, migrated database: a
// SQLite file in the test's temp dir, and a new PostgreSQL database (testenv.PostgresURL; skipped
// when Postgres is missing, a failure under CI=true). Tests that need Postgres say so in their name.

// testDB is one fresh, migrated database and a store over it with a recording outbox.
type testDB struct {
	db      *bun.DB
	dialect Dialect
	store   *Store
	outbox  *outboxRecorder
}

var dialects = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(*testing.T) string { return "" }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

// eachDB runs test once per dialect on its own fresh database.
func eachDB(t *testing.T, test func(t *testing.T, tdb *testDB)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { test(t, openTestDB(t, d.url(t))) })
	}
}

func openTestDB(t *testing.T, url string) *testDB {
	t.Helper()
	ctx := context.Background()
	db, dialect, err := Open(ctx, url, t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := Migrate(ctx, db, dialect); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE test_outbox (event_id TEXT PRIMARY KEY,
		topic TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL DEFAULT '')`); err != nil {
		t.Fatalf("create test outbox: %v", err)
	}
	rec := &outboxRecorder{dialect: dialect}
	return &testDB{db: db, dialect: dialect, store: NewStore(db, dialect, rec.open), outbox: rec}
}

// outboxRecorder is the test's OutboxOpener: it writes each event (id, topic, order) into
// test_outbox through the raw transaction it is given, so a test sees whether events commit and
// roll back with the data.
type outboxRecorder struct {
	dialect Dialect
	mu      sync.Mutex
	opened  int
}

func (r *outboxRecorder) open(_ context.Context, tx *sql.Tx) (app.Outbox, error) {
	r.mu.Lock()
	r.opened++
	r.mu.Unlock()
	return txOutbox{tx: tx, dialect: r.dialect}, nil
}

func (r *outboxRecorder) openCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opened
}

type txOutbox struct {
	tx      *sql.Tx
	dialect Dialect
}

func (o txOutbox) Publish(ctx context.Context, events ...app.Event) error {
	query := "INSERT INTO test_outbox (event_id, topic, order_id) VALUES (?, ?, ?)"
	if o.dialect == Postgres {
		query = "INSERT INTO test_outbox (event_id, topic, order_id) VALUES ($1, $2, $3)"
	}
	for _, ev := range events {
		if _, err := o.tx.ExecContext(ctx, query, ev.ID, ev.Type, ev.OrderID); err != nil {
			return err
		}
	}
	return nil
}

// count returns how many rows table has.
func (tdb *testDB) count(t *testing.T, table string) int {
	t.Helper()
	n, err := tdb.db.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// Fixtures.

// t0 has microseconds, the precision both databases keep.
var t0 = time.Date(2026, 11, 24, 10, 30, 15, 123456000, time.UTC)

func usd(minor int64) money.Money {
	m, err := money.New(minor, money.USD)
	if err != nil {
		panic(err)
	}
	return m
}

func addProduct(t *testing.T, tdb *testDB, id string, stock int64) *catalog.Product {
	t.Helper()
	p, err := catalog.NewProduct(id, "seller-1", "Product "+id, usd(22649), stock, "https://img.example/"+id+".jpg", t0)
	if err != nil {
		t.Fatalf("new product: %v", err)
	}
	if err := tdb.store.Products().Add(context.Background(), p); err != nil {
		t.Fatalf("add product: %v", err)
	}
	return p
}

// orderSpec varies what placeOrder builds.
type orderSpec struct {
	id, customer string
	method       payment.Method
	at           time.Time
}

func placeOrder(t *testing.T, spec orderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	if spec.method == "" {
		spec.method = payment.MethodCard
	}
	if spec.at.IsZero() {
		spec.at = t0
	}
	if spec.customer == "" {
		spec.customer = "customer-1"
	}
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
		DeliveryFee: usd(700), Method: spec.method, Now: spec.at})
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

func addOrder(t *testing.T, tdb *testDB, spec orderSpec, products ...*catalog.Product) *order.Order {
	t.Helper()
	o := placeOrder(t, spec, products...)
	if err := tdb.store.Orders().Add(context.Background(), o); err != nil {
		t.Fatalf("add order: %v", err)
	}
	return o
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

// parallel runs fn n times at once and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
