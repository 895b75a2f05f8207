package sqlstore

import (
	"cmp"
	"context"
	"fmt"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// unpaidCardHoldingQuery counts a customer's ($1) Pending card orders and the units they hold,
// leaving out the order $2. The status is written in, not an argument, so that the plan Postgres
// prepares once per connection still uses the partial index of pending orders.
const unpaidCardHoldingQuery = `SELECT count(DISTINCT o.id), coalesce(sum(oi.quantity), 0)
  FROM orders AS o JOIN payments AS pay ON pay.order_id = o.id JOIN order_items AS oi ON oi.order_id = o.id
 WHERE o.customer_id = $1 AND o.id <> $2 AND o.status = '` + string(order.StatusPending) + `' AND pay.method = '` +
	string(payment.MethodCard) + `'`

// admitUnpaidCall calls the admit_unpaid function (see its migration): the customer, the order
// left out of the count, the units it adds, and the cap's bounds.
const admitUnpaidCall = "SELECT admit_unpaid($1, $2, $3, $4, $5)"

// UnpaidCardHolding counts the customer's card orders still Pending and the units they hold.
func (r orderRepo) UnpaidCardHolding(ctx context.Context, customerID string) (app.UnpaidHolding, error) {
	return r.holding(ctx, customerID, "")
}

// AdmitUnpaid checks the cap. On Postgres the admit_unpaid function takes the customer's advisory
// lock (held until the commit) and counts in a statement of its own, so that under READ COMMITTED
// it sees what a checkout it waited for committed; in a transaction the call travels with the
// COMMIT (execAtCommit), which a refusal fails. SQLite needs no lock: its IMMEDIATE transactions
// already write one at a time.
func (r orderRepo) AdmitUnpaid(ctx context.Context, o *order.Order, limit app.UnpaidCap) error {
	if r.dialect == Postgres {
		_, err := rawConn(r.db).ExecContext(execAtCommit(ctx), admitUnpaidCall,
			o.CustomerID(), o.ID(), app.UnitsOf(o), limit.MaxOrders, limit.MaxUnits)
		if err != nil {
			return fmt.Errorf("admit the unpaid card order %s: %w", o.ID(), raisedFault(err))
		}
		return nil
	}
	held, err := r.holding(ctx, o.CustomerID(), o.ID())
	if err != nil {
		return err
	}
	return limit.Refusal(held, app.UnitsOf(o))
}

// holding counts the customer's unpaid card orders, leaving out the order except.
func (r orderRepo) holding(ctx context.Context, customerID, except string) (app.UnpaidHolding, error) {
	var held app.UnpaidHolding
	rows, err := rawConn(r.db).QueryContext(ctx, unpaidCardHoldingQuery, customerID, except)
	if err == nil {
		defer rows.Close()
		for rows.Next() { // an aggregate: one row
			err = rows.Scan(&held.Orders, &held.Units)
		}
		err = cmp.Or(err, rows.Err())
	}
	if err != nil {
		return app.UnpaidHolding{}, fmt.Errorf("count unpaid card orders of customer %s: %w", customerID, err)
	}
	return held, nil
}
