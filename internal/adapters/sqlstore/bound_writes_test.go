package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// A checkout's bound inserts write the rows bun's inserts write: the same order, stored once by Add
// and once by bun under another id, reads back column for column alike (NULLs included: a cash
// payment has no intent, an unpaid one no paid_at, an undisputed order no dispute).
func TestBoundInsertsWriteWhatBunWrites_Postgres(t *testing.T) {
	tdb := openTestDB(t, testenv.PostgresURL(t))
	ctx := context.Background()
	p1, p2 := addProduct(t, tdb, "p-bound-1", 10), addProduct(t, tdb, "p-bound-2", 10)
	for _, method := range []payment.Method{payment.MethodCard, payment.MethodCash} {
		bound, viaBun := "o-bound-"+string(method), "o-bunwr-"+string(method)
		if err := tdb.store.Orders().Add(ctx, porttest.PlaceOrder(t, porttest.OrderSpec{ID: bound, Method: method}, p1, p2)); err != nil {
			t.Fatalf("Add: %v", err)
		}
		row, changes := orderToRows(porttest.PlaceOrder(t, porttest.OrderSpec{ID: viaBun, Method: method}, p1, p2))
		if _, err := execAll(ctx, tdb.db, tdb.db.NewInsert().Model(row), tdb.db.NewInsert().Model(&row.Items),
			tdb.db.NewInsert().Model(row.Payment), tdb.db.NewInsert().Model(&changes)); err != nil {
			t.Fatalf("bun's inserts: %v", err)
		}
		for _, table := range []string{"orders", "order_items", "payments", "order_timeline"} {
			assertRowsAlike(t, tdb, string(method), table, orderKey(table), bound, viaBun)
		}
	}
}

// An update's bound statements write the rows bun's statements write: twin orders, one updated
// through the store (saveBound on Postgres), one through save's bun statements (as on SQLite),
// read back column for column alike, through a payment that becomes Paid and a dispute that fills
// the NULL columns of the row.
func TestBoundSaveWritesWhatBunWrites_Postgres(t *testing.T) {
	tdb := openTestDB(t, testenv.PostgresURL(t))
	ctx := context.Background()
	p1 := addProduct(t, tdb, "p-bsave-1", 10)
	at := time.Date(2026, 12, 3, 17, 0, 0, 123456000, time.UTC)
	changes := []func(o *order.Order) error{
		func(o *order.Order) error {
			_, err := o.ApplyIntent(succeeded(o), order.CauseWebhook("evt_bsave"), at)
			return err
		},
		func(o *order.Order) error {
			amount, err := money.New(500, o.Total().Currency())
			if err != nil {
				return err
			}
			o.RecordDispute(order.Dispute{Status: "needs_response", Reason: "fraudulent", Amount: amount, OpenedAt: at},
				false, order.CauseWebhook("evt_bsave_dp"), at)
			return nil
		},
	}
	bound, viaBun := "o-bsave-bound", "o-bsave-bun"
	viaBunRepo := orderRepo{repos{db: tdb.db, dialect: SQLite}} // save's bun statements, on Postgres
	for _, id := range []string{bound, viaBun} {
		porttest.AddOrder(t, tdb.store, porttest.OrderSpec{ID: id}, p1)
	}
	for i, change := range changes {
		if _, err := tdb.store.Orders().Update(ctx, bound, change); err != nil {
			t.Fatalf("change %d, bound: %v", i, err)
		}
		if _, err := viaBunRepo.Update(ctx, viaBun, change); err != nil {
			t.Fatalf("change %d, bun: %v", i, err)
		}
		for _, table := range []string{"orders", "payments", "order_timeline"} {
			assertRowsAlike(t, tdb, fmt.Sprintf("change %d", i), table, orderKey(table), bound, viaBun)
		}
	}
}

// assertRowsAlike fails the test unless table's rows whose key column is bound read, with bound
// written as viaBun, as those whose key is viaBun do.
func assertRowsAlike(t *testing.T, tdb *testDB, what, table, key, bound, viaBun string) {
	t.Helper()
	got := strings.ReplaceAll(rowsAsJSON(t, tdb, table, key, bound), bound, viaBun)
	if want := rowsAsJSON(t, tdb, table, key, viaBun); got != want {
		t.Errorf("%s, %s: the bound statements wrote\n%s\nbun wrote\n%s", what, table, got, want)
	}
}

// orderKey is the column naming the order in one of an order's tables.
func orderKey(table string) string {
	if table == "orders" {
		return "id"
	}
	return "order_id"
}

// rowsAsJSON is every row of table whose key column is id, as one JSON array in a fixed order.
func rowsAsJSON(t *testing.T, tdb *testDB, table, key, id string) string {
	t.Helper()
	var out string
	query := "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r::text), '[]')::text FROM " + table + " AS r WHERE " + key + " = ?"
	if err := tdb.db.NewRaw(query, id).Scan(context.Background(), &out); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	if out == "[]" {
		t.Fatalf("no rows in %s for %s", table, id)
	}
	return out
}

// insertIfAbsent's bound inserts write the rows bun's insert writes (bun writes DEFAULT for a
// nullzero field's zero value, the bound insert NULL: alike while those columns have no other
// default, which this proves for every table it writes), and report a second insert of the same
// key as not inserted.
func TestInsertIfAbsentWritesWhatBunWrites_Postgres(t *testing.T) {
	tdb := openTestDB(t, testenv.PostgresURL(t))
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 17, 0, 0, 123456000, time.UTC)
	tables := []struct {
		table, key, conflict string
		row                  func(key string) any
	}{
		{"webhook_events", "event_id", "event_id", func(key string) any {
			return &webhookEventRow{EventID: key, Type: "payment_intent.succeeded", Provider: "sandbox",
				IntentID: "pi_1", Payload: []byte(`{}`), ReceivedAt: at} // never processed, not leased
		}},
		{"idempotency_keys", "key", "scope, key", func(key string) any {
			return &idempotencyRow{Scope: "orders", Key: key, RequestHash: "h", Token: 1, CreatedAt: at} // no lease, no expiry
		}},
		{"sandbox_intents", "id", "payment_id", func(key string) any {
			return &sandboxIntentRow{ID: key, PaymentID: "pay-" + key, State: `{}`, CreatedAt: at, UpdatedAt: at}
		}},
	}
	for _, tc := range tables {
		bound, viaBun := "bound-"+tc.table, "bun-"+tc.table
		if inserted, err := insertIfAbsent(ctx, tdb.db, tc.row(bound), tc.conflict); err != nil || !inserted {
			t.Fatalf("%s: insertIfAbsent = %v, %v; want inserted", tc.table, inserted, err)
		}
		if inserted, err := insertIfAbsent(ctx, tdb.db, tc.row(bound), tc.conflict); err != nil || inserted {
			t.Errorf("%s: a second insertIfAbsent of the key = %v, %v; want not inserted", tc.table, inserted, err)
		}
		if _, err := tdb.db.NewInsert().Model(tc.row(viaBun)).Exec(ctx); err != nil {
			t.Fatalf("%s: bun's insert: %v", tc.table, err)
		}
		assertRowsAlike(t, tdb, "insertIfAbsent", tc.table, tc.key, bound, viaBun)
	}
}
