package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Invariant 1 through the real checkout use case on the real databases: 20 customers race for the
// last unit, and the database's conditional update (not a lock in Go) decides that exactly one wins.
func TestCheckoutRaceForTheLastUnit_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		const racers = 20
		addProduct(t, tdb, "p-last-unit", 1)
		checkout := app.NewPlaceOrderHandler(app.NewUnitOfWork(tdb.store), nil, app.Pricing{Currency: money.USD},
			app.SystemClock{}, slog.New(slog.DiscardHandler))
		errs := parallel(racers, func(i int) error {
			_, err := checkout.Handle(context.Background(), checkoutOf(fmt.Sprintf("customer-%02d", i), "p-last-unit", 1, payment.MethodCash))
			return err
		})
		if won := winners(t, errs, catalog.ErrOutOfStock); won != 1 {
			t.Errorf("%d checkouts won the last unit; want exactly 1", won)
		}
		for _, err := range errs { // on Postgres a lost reservation fails the commit: it still names the product
			if err != nil && !strings.Contains(err.Error(), `"p-last-unit"`) {
				t.Errorf("a losing checkout failed with %q; want the product named", err)
			}
		}
		assertStored(t, tdb, "p-last-unit", 0, 1)
	})
}
