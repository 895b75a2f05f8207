package sqlstore

import (
	"cmp"
	"context"
	"fmt"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// unpaidCardHoldingQuery counts a customer's Pending card orders and the units they hold. The
// status is written in, not an argument, so that the plan Postgres prepares once per connection
// still uses the partial index of pending orders.
const unpaidCardHoldingQuery = `SELECT count(DISTINCT o.id), coalesce(sum(oi.quantity), 0)
  FROM orders AS o JOIN payments AS pay ON pay.order_id = o.id JOIN order_items AS oi ON oi.order_id = o.id
 WHERE o.customer_id = $1 AND o.status = '` + string(order.StatusPending) + `' AND pay.method = '` +
	string(payment.MethodCard) + `'`

// unpaidLockSpace is the first key of the two-key Postgres advisory locks that serialize one
// customer's checkouts (the second is a hash of the customer id). Two-key locks never collide with
// the one-key locks others take (bun/migrate's); two customers whose ids hash alike merely wait for
// each other.
const unpaidLockSpace = 20261130

// UnpaidCardHolding counts the customer's card orders still Pending and the units they hold. In a
// transaction on Postgres it first takes the customer's advisory lock, held until the commit, and
// counts in a statement of its own, so that under READ COMMITTED it sees what a checkout it waited
// for committed. SQLite needs no lock: its IMMEDIATE transactions already write one at a time.
func (r orderRepo) UnpaidCardHolding(ctx context.Context, customerID string) (app.UnpaidHolding, error) {
	if r.inTx && r.dialect == Postgres {
		if _, err := r.db.NewRaw("SELECT pg_advisory_xact_lock(?, hashtext(?))", unpaidLockSpace, customerID).
			Exec(ctx); err != nil {
			return app.UnpaidHolding{}, fmt.Errorf("lock checkouts of customer %s: %w", customerID, err)
		}
	}
	var held app.UnpaidHolding
	rows, err := rawConn(r.db).QueryContext(ctx, unpaidCardHoldingQuery, customerID)
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
