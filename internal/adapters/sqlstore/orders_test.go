package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/wolfix/orders/internal/app"
)

// The port suite (porttest_test.go) runs the order repository on both dialects; here is what only
// this store's cursors promise: one that is not base64 of "<unix micros> <id>" is ErrBadCursor.
func TestOrderCursorsThatTheStoreDidNotMakeAreRefused_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		for _, bad := range []string{"%%%", encodeCursor("no-time"), encodeCursor("12 ")} {
			if _, _, err := tdb.store.Orders().List(context.Background(), app.OrderQuery{After: bad}); !errors.Is(err, ErrBadCursor) {
				t.Errorf("cursor %q: got %v; want ErrBadCursor", bad, err)
			}
		}
	})
}
