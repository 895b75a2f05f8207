package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// errVersionConflict reports an order stored by someone else between our read and our write. The
// row lock (Postgres) or the write lock (SQLite) prevents it; the version check proves it.
var errVersionConflict = fault.Conflict("order_version_conflict", "the order changed concurrently; try again")

// orderRepo is app.OrderRepository. An order is stored as its row (with its dispute), its items,
// payment, refunds and timeline; the order row's version counts the updates.
type orderRepo struct{ repos }

// Add inserts the order's row, items, payment, refunds and timeline. On Postgres, an order without
// refunds (every checkout's) goes in bound inserts (insertBound), held for the COMMIT.
func (r orderRepo) Add(ctx context.Context, o *order.Order) error {
	row, changes := orderToRows(o)
	err := r.transact(ctx, func(ctx context.Context, db bun.IDB) error {
		if r.dialect == Postgres && len(row.Refunds) == 0 {
			return insertBoundAll(ctx, db, row, &row.Items, row.Payment, &changes)
		}
		// The defaults of NULL columns are known: no RETURNING to read them back.
		inserts := []bun.Query{db.NewInsert().Model(row).Returning("NULL"), db.NewInsert().Model(&row.Items),
			db.NewInsert().Model(row.Payment).Returning("NULL")}
		if len(row.Refunds) > 0 {
			inserts = append(inserts, refundsUpsert(db, row.Refunds))
		}
		if len(changes) > 0 {
			inserts = append(inserts, db.NewInsert().Model(&changes))
		}
		_, err := execAll(ctx, db, inserts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("add order %s: %w", o.ID(), err)
	}
	return nil
}

func (r orderRepo) Get(ctx context.Context, id string) (*order.Order, error) {
	o, err := r.load(ctx, r.db, id)
	if err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// glanceQuery reads what OrderGlance holds; with its $1 it is prepared once per connection.
const glanceQuery = `SELECT o.customer_id, o.version, pay.method, pay.status, pay.provider, COALESCE(pay.intent_id, '')
  FROM orders AS o JOIN payments AS pay ON pay.order_id = o.id WHERE o.id = $1`

func (r orderRepo) Glance(ctx context.Context, id string) (app.OrderGlance, error) {
	var g app.OrderGlance
	rows, err := rawConn(r.db).QueryContext(ctx, glanceQuery, id)
	if err != nil {
		return g, fmt.Errorf("glance at order %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return g, fmt.Errorf("glance at order %s: %w", id, cmp.Or(rows.Err(), error(order.ErrNotFound)))
	}
	if err := rows.Scan(&g.CustomerID, &g.Version, &g.PaymentMethod, &g.PaymentStatus, &g.PaymentProvider, &g.IntentID); err != nil {
		return app.OrderGlance{}, fmt.Errorf("glance at order %s: %w", id, err)
	}
	return g, nil
}

// Update returns the order fn changed, whose NewChanges are the entries this call stored.
func (r orderRepo) Update(ctx context.Context, id string, fn func(o *order.Order) error) (*order.Order, error) {
	var updated *order.Order
	err := r.transact(ctx, func(ctx context.Context, db bun.IDB) error {
		o, err := r.loadLocked(ctx, db, id)
		if err != nil {
			return err
		}
		loadedPayment := o.Payment().Snapshot()
		if err := fn(o); err != nil {
			return err
		}
		updated = o
		return r.save(ctx, db, o, o.Payment().Snapshot() != loadedPayment)
	})
	if err != nil {
		return nil, fmt.Errorf("update order %s: %w", id, err)
	}
	return updated, nil
}

func (r orderRepo) FindIDByIntent(ctx context.Context, intentID string) (string, error) {
	var orderID string
	err := r.db.NewSelect().Model((*paymentRow)(nil)).Column("order_id").
		Where("intent_id = ?", intentID).Scan(ctx, &orderID)
	if err != nil {
		return "", fmt.Errorf("find order by intent %s: %w", intentID, notFound(err, order.ErrNotFound))
	}
	return orderID, nil
}

func (r orderRepo) List(ctx context.Context, q app.OrderQuery) ([]*order.Order, string, error) {
	limit := pageSize(q.Limit)
	var rows []*orderRow
	sel := withChildren(r.db.NewSelect().Model(&rows)).
		OrderExpr("o.created_at DESC, o.id DESC").Limit(int64(limit) + 1)
	if q.CustomerID != "" {
		sel = sel.Where("o.customer_id = ?", q.CustomerID)
	}
	if q.Status != "" {
		sel = sel.Where("o.status = ?", q.Status)
	}
	if q.After != "" {
		createdAt, id, err := parseOrderCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		sel = sel.Where("(o.created_at, o.id) < (?, ?)", createdAt, id)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = orderCursor(last.CreatedAt, last.ID)
	}
	orders := make([]*order.Order, 0, len(rows))
	for _, row := range rows {
		o, err := row.toDomain()
		if err != nil {
			return nil, "", err
		}
		orders = append(orders, o)
	}
	return orders, next, nil
}

// ListAwaitingPayment returns card orders still Pending placed before q.PlacedBefore, oldest
// first, a page of q.Limit (at least one; the reconciler's batch, not the API's page size).
func (r orderRepo) ListAwaitingPayment(ctx context.Context, q app.AwaitingQuery) ([]string, string, error) {
	limit := max(q.Limit, 1)
	var rows []struct {
		ID        string    `bun:"id"`
		CreatedAt time.Time `bun:"created_at"`
	}
	sel := r.db.NewSelect().Model((*orderRow)(nil)).Column("o.id", "o.created_at").
		Join("JOIN payments AS pay ON pay.order_id = o.id").
		Where("o.status = ?", order.StatusPending).Where("pay.method = ?", payment.MethodCard).
		Where("o.created_at < ?", q.PlacedBefore.UTC()).
		Order("o.created_at", "o.id").Limit(int64(limit) + 1)
	if q.After != "" {
		createdAt, id, err := parseOrderCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		sel = sel.Where("(o.created_at, o.id) > (?, ?)", createdAt, id)
	}
	if err := sel.Scan(ctx, &rows); err != nil {
		return nil, "", fmt.Errorf("list orders awaiting payment: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = orderCursor(rows[limit-1].CreatedAt, rows[limit-1].ID)
	}
	ids := make([]string, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	return ids, next, nil
}

// ListWithPendingRefunds returns orders whose oldest pending refund was requested before
// requestedBefore, that refund oldest first.
func (r orderRepo) ListWithPendingRefunds(ctx context.Context, requestedBefore time.Time, limit int) ([]string, error) {
	var ids []string
	err := r.db.NewSelect().Model((*refundRow)(nil)).Column("rf.order_id").
		Where("rf.status = ?", order.RefundPending).Where("rf.created_at < ?", requestedBefore.UTC()).
		Group("rf.order_id").OrderExpr("MIN(rf.created_at), rf.order_id").
		Limit(int64(pageSize(limit))).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("list orders with pending refunds: %w", err)
	}
	return ids, nil
}

// load reads one order: on Postgres in one statement (loadJoined), elsewhere the row with its
// payment (joined), then its children in one query.
func (r orderRepo) load(ctx context.Context, db bun.IDB, id string) (*order.Order, error) {
	if r.dialect == Postgres {
		return loadJoined(ctx, db, id)
	}
	row := new(orderRow)
	if err := db.NewSelect().Model(row).Relation("Payment").Where("o.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, order.ErrNotFound)
	}
	if err := loadChildren(ctx, db, childrenQuery, row); err != nil {
		return nil, fmt.Errorf("items, refunds and timeline: %w", err)
	}
	return row.toDomain()
}

// loadLocked reads one order for an update. On Postgres that is two statements in one round trip:
// lockRoot's statement takes the row's lock, then, with the lock held, loadJoined reads the order
// whole in a snapshot taken after the lock. The lock is held (execAtCommit) and goes out in one
// pipelined batch with the read (and the transaction's BEGIN when it is its first statement); a
// missing order locks nothing, and the read finds nothing. On SQLite, whose IMMEDIATE
// transaction already holds the only write lock, the row, then its payment and children in one
// query.
func (r orderRepo) loadLocked(ctx context.Context, db bun.IDB, id string) (*order.Order, error) {
	if r.dialect == Postgres {
		if _, err := rawExec(execAtCommit(ctx), db, lockRootQuery(db, (*orderRow)(nil)), id); err != nil {
			return nil, err
		}
		return loadJoined(ctx, db, id)
	}
	row := new(orderRow)
	if err := db.NewSelect().Model(row).Where("o.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, order.ErrNotFound)
	}
	if err := loadChildren(ctx, db, childrenAndPaymentQuery, row); err != nil {
		return nil, fmt.Errorf("payment, items, refunds and timeline: %w", err)
	}
	return row.toDomain()
}

// childrenSelect reads an order's timeline, items and refunds as rows of one shape: kind, seq, a
// time, eight texts, two numbers, two flags. childrenQuery orders them by kind and sequence;
// childrenAndPaymentQuery adds the payment. Their texts never change, so Postgres prepares each
// once per connection.
const childrenSelect = `
SELECT 0 AS kind, seq, at, type, from_status, to_status, cause, '' AS s5, '' AS s6, '' AS s7, '' AS s8,
       0 AS n1, 0 AS n2, FALSE AS b1, FALSE AS b2
  FROM order_timeline WHERE order_id = $1
UNION ALL
SELECT 1, line_no, NULL, product_id, title, seller_id, '', '', '', '', '', unit_price_minor, quantity, FALSE, FALSE
  FROM order_items WHERE order_id = $1
UNION ALL
SELECT 2, seq, created_at, id, status, reason, provider_refund_id, '', '', '', '', amount_minor, 0, restock, external
  FROM refunds WHERE order_id = $1`

const (
	childrenQuery           = childrenSelect + "\nORDER BY 1, 2"
	childrenAndPaymentQuery = childrenSelect + `
UNION ALL
SELECT 3, 0, paid_at, id, method, provider, COALESCE(intent_id, ''), currency, status, failure_code, failure_message,
       amount_minor, 0, FALSE, FALSE
  FROM payments WHERE order_id = $1
ORDER BY 1, 2`
)

// The kinds of the children queries' rows.
const (
	childTimeline = iota
	childItem
	childRefund
	childPayment
)

func loadChildren(ctx context.Context, db bun.IDB, query string, row *orderRow) error {
	rows, err := rawConn(db).QueryContext(ctx, query, row.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var c child
	dest := c.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		c.addTo(row)
	}
	return rows.Err()
}

// child is one row of the children queries, in their shape.
type child struct {
	kind, seq int
	at        sql.NullTime
	s         [8]string
	n1, n2    int64
	b1, b2    bool
}

// childColumns is how many columns a child row has.
const childColumns = 15

// dest is where rows.Scan puts a child row's columns.
func (c *child) dest() []any {
	return []any{&c.kind, &c.seq, &c.at, &c.s[0], &c.s[1], &c.s[2], &c.s[3], &c.s[4], &c.s[5], &c.s[6], &c.s[7],
		&c.n1, &c.n2, &c.b1, &c.b2}
}

// addTo adds the child to its order's row; a row of another kind (joinedOrder's placeholder) adds
// nothing.
func (c *child) addTo(row *orderRow) {
	s := c.s
	switch c.kind {
	case childTimeline:
		row.Timeline = append(row.Timeline, &timelineRow{OrderID: row.ID, Seq: c.seq, At: c.at.Time,
			Type: s[0], From: s[1], To: s[2], Cause: s[3]})
	case childItem:
		row.Items = append(row.Items, &orderItemRow{OrderID: row.ID, LineNo: c.seq, ProductID: s[0],
			Title: s[1], SellerID: s[2], UnitPriceMinor: c.n1, Quantity: c.n2})
	case childRefund:
		row.Refunds = append(row.Refunds, &refundRow{ID: s[0], OrderID: row.ID, Seq: c.seq, AmountMinor: c.n1,
			Status: s[1], Reason: s[2], ProviderRefundID: s[3], Restock: c.b1, External: c.b2, CreatedAt: c.at.Time})
	case childPayment:
		row.Payment = &paymentRow{ID: s[0], OrderID: row.ID, Method: s[1], Provider: s[2], IntentID: s[3],
			Currency: s[4], Status: s[5], FailureCode: s[6], FailureMessage: s[7], AmountMinor: c.n1, PaidAt: c.at.Time}
	}
}

// withChildren loads the payment (joined) and the items, refunds and timeline (one query each, in
// order).
func withChildren(sel *bun.SelectQuery) *bun.SelectQuery {
	return sel.Relation("Payment").
		Relation("Items", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("oi.line_no") }).
		Relation("Refunds", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("rf.seq") }).
		Relation("Timeline", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("tl.seq") })
}

// save stores a loaded order: the payment when it changed since the order was read (most changes
// leave it as it was), the refunds, the new timeline entries, and last the row with its version
// bumped, written only where the version is still the one read, which proves nobody stored the
// order since; otherwise the caller's rollback undoes the writes before it. A timeline entry
// already there can only be a stale order's (every save bumps the version), so it is skipped and
// the version check reports it. Items never change after the order is placed.
//
// On Postgres an order without refunds goes in bound statements held for the COMMIT (saveBound);
// otherwise in one text (one round trip), whose count of changed rows (execAll's result) is the
// version check.
func (r orderRepo) save(ctx context.Context, db bun.IDB, o *order.Order, paymentChanged bool) error {
	row, changes := orderToRows(o)
	row.Version = o.Version() + 1
	if r.dialect == Postgres && len(row.Refunds) == 0 {
		return saveBound(ctx, db, row, changes, paymentChanged, o.Version())
	}
	var writes []bun.Query
	if paymentChanged {
		writes = append(writes, db.NewUpdate().Model(row.Payment).WherePK())
	}
	if len(row.Refunds) > 0 {
		writes = append(writes, refundsUpsert(db, row.Refunds))
	}
	if len(changes) > 0 {
		writes = append(writes, db.NewInsert().Model(&changes).On(timelineOnConflict))
	}
	writes = append(writes, db.NewUpdate().Model(row).WherePK().Where("version = ?", o.Version()))
	res, err := execAll(ctx, db, writes...)
	if err != nil {
		return fmt.Errorf("store order, payment, refunds and timeline: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errVersionConflict.Wrap(err)
	}
	return nil
}

// timelineOnConflict skips a timeline entry that is already stored (see save).
const timelineOnConflict = "CONFLICT (order_id, seq) DO NOTHING"

// saveBound is save's writes as bound statements (updateBound, insertBoundOn), held for the
// COMMIT: nothing in the transaction waits for them. The row's update carries the version check
// (expect_one_row), so a lost check fails the COMMIT, or the statement the transaction runs next,
// and raisedFault reports it as errVersionConflict.
func saveBound(ctx context.Context, db bun.IDB, row *orderRow, changes []*timelineRow, paymentChanged bool, readVersion int64) error {
	if paymentChanged {
		if err := updateBound(ctx, db, row.Payment, "", nil); err != nil {
			return fmt.Errorf("store payment: %w", err)
		}
	}
	if len(changes) > 0 {
		if _, err := insertBoundOn(execAtCommit(ctx), db, &changes, timelineOnConflict); err != nil {
			return fmt.Errorf("store timeline: %w", err)
		}
	}
	if err := updateBound(ctx, db, row, "version", readVersion); err != nil {
		return fmt.Errorf("store order: %w", raisedFault(err))
	}
	return nil
}

// saveRefunds inserts new refunds and stores the provider's outcome of known ones; what a refund
// asked for (amount, reason, restock) never changes.
func saveRefunds(ctx context.Context, db bun.IDB, refunds []*refundRow) error {
	if len(refunds) == 0 {
		return nil
	}
	if _, err := refundsUpsert(db, refunds).Exec(ctx); err != nil {
		return fmt.Errorf("refunds: %w", err)
	}
	return nil
}

func refundsUpsert(db bun.IDB, refunds []*refundRow) *bun.InsertQuery {
	return db.NewInsert().Model(&refunds).
		On("CONFLICT (id) DO UPDATE").
		Set("status = EXCLUDED.status").
		Set("provider_refund_id = EXCLUDED.provider_refund_id")
}
