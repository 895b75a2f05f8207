package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/app/porttest"
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
			key := "order_id"
			if table == "orders" {
				key = "id"
			}
			got := strings.ReplaceAll(rowsAsJSON(t, tdb, table, key, bound), bound, viaBun)
			if want := rowsAsJSON(t, tdb, table, key, viaBun); got != want {
				t.Errorf("%s, %s: bound inserts wrote\n%s\nbun wrote\n%s", method, table, got, want)
			}
		}
	}
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
