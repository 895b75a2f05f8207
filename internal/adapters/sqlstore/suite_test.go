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
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
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

// eachDialect runs suite once per dialect; open opens a fresh, migrated database of it each call.
func eachDialect(t *testing.T, suite func(t *testing.T, open func(t *testing.T) *testDB)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			suite(t, func(t *testing.T) *testDB { return openTestDB(t, d.url(t)) })
		})
	}
}

// eachDB runs test once per dialect on its own fresh database.
func eachDB(t *testing.T, test func(t *testing.T, tdb *testDB)) {
	t.Helper()
	eachDialect(t, func(t *testing.T, open func(*testing.T) *testDB) { test(t, open(t)) })
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

// Fixtures: the port suite's (porttest), bound to a test database.

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
	return porttest.AddProduct(t, tdb.store, id, stock)
}

// The races of this package's tests run as the port suite's do.
var (
	parallel = porttest.Parallel
	winners  = porttest.Winners
)

func assertNoErrors(t *testing.T, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent calls failed: %v", err)
	}
}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
