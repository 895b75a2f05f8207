package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/wolfix/orders/internal/domain/order"
)

// joinedOrder is the one statement that reads an order on Postgres: its rows are the order's
// children (childrenSelect's shape), led by a placeholder child that carries the order's row and
// its payment (the columns bun maps for orderRow and paymentRow), so that an order is found even
// in the impossible case of having no children. It is prepared once per connection, like the
// children queries.
type joinedOrder struct {
	query                      string
	orderFields, paymentFields []*schema.Field
}

var (
	joinedOrderOnce sync.Once
	joinedOrderStmt joinedOrder
)

// joinedOrderFor builds the statement from the tables bun knows (once: the columns never change
// while the process runs).
func joinedOrderFor(tables *schema.Tables) joinedOrder {
	joinedOrderOnce.Do(func() {
		j := joinedOrder{orderFields: tables.Get(reflect.TypeFor[orderRow]()).Fields,
			paymentFields: tables.Get(reflect.TypeFor[paymentRow]()).Fields}
		cols := make([]string, 0, len(j.orderFields)+len(j.paymentFields))
		for _, f := range j.orderFields {
			cols = append(cols, headerColumn("o", f))
		}
		for _, f := range j.paymentFields {
			cols = append(cols, headerColumn("pay", f))
		}
		j.query = "SELECT " + strings.Join(cols, ", ") + `, c.*
  FROM orders AS o JOIN payments AS pay ON pay.order_id = o.id
 CROSS JOIN LATERAL (
SELECT -1 AS kind, 0 AS seq, NULL::timestamptz AS at, '' AS type, '' AS from_status, '' AS to_status,
       '' AS cause, '' AS s5, '' AS s6, '' AS s7, '' AS s8, 0::bigint AS n1, 0::bigint AS n2, FALSE AS b1, FALSE AS b2
UNION ALL` + childrenSelect + `) AS c
 WHERE o.id = $1
 ORDER BY c.kind, c.seq`
		joinedOrderStmt = j
	})
	return joinedOrderStmt
}

// headerColumn selects a column of the order's row or payment in the placeholder row only (NULL
// beside the children), so the header travels and is decoded once.
func headerColumn(alias string, f *schema.Field) string {
	return "CASE WHEN c.kind = -1 THEN " + alias + "." + string(f.SQLName) + " END"
}

// loadJoined reads one order with its payment and children in one round trip (Postgres).
func loadJoined(ctx context.Context, db bun.IDB, id string) (*order.Order, error) {
	j := joinedOrderFor(db.Dialect().Tables())
	rows, err := rawConn(db).QueryContext(ctx, j.query, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	header := make([]any, len(j.orderFields)+len(j.paymentFields))
	dest := make([]any, 0, len(header)+childColumns)
	for i := range header {
		dest = append(dest, &header[i])
	}
	var c child
	dest = append(dest, c.dest()...)
	var row *orderRow
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if row == nil {
			if row, err = j.rowOf(header); err != nil {
				return nil, err
			}
		}
		c.addTo(row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if row == nil {
		return nil, order.ErrNotFound
	}
	return row.toDomain()
}

// rowOf fills an order's row and payment from the header columns of a joined row, with bun's
// scanners (NULLs become zero values, as for bun's own selects).
func (j joinedOrder) rowOf(header []any) (*orderRow, error) {
	row := &orderRow{Payment: &paymentRow{}}
	fill := func(fields []*schema.Field, strct any, values []any) error {
		v := reflect.ValueOf(strct).Elem()
		for i, f := range fields {
			if err := f.ScanValue(v, values[i]); err != nil {
				return fmt.Errorf("column %s: %w", f.Name, err)
			}
		}
		return nil
	}
	if err := fill(j.orderFields, row, header[:len(j.orderFields)]); err != nil {
		return nil, err
	}
	return row, fill(j.paymentFields, row.Payment, header[len(j.orderFields):])
}
