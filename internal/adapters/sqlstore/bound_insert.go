package sqlstore

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// insertBound inserts rows of one bun model (a pointer to a row, or a slice of pointers to rows)
// on Postgres with $n arguments instead of bun's inlined values. Its text depends only on the
// table and the number of rows, so pgx prepares it once per connection; bun's texts are new every
// time, and Postgres parses and plans each. Inside a lazily begun transaction the insert is held
// for the COMMIT (execAtCommit): nothing in a checkout reads its rows back, and a statement that
// does sends the held ones first. The columns are bun's, as bun would write them: every field,
// and NULL for the zero value of a nullzero field.
func insertBound(ctx context.Context, db bun.IDB, rows any) error {
	v := reflect.Indirect(reflect.ValueOf(rows))
	var structs []reflect.Value
	if v.Kind() == reflect.Slice {
		for i := range v.Len() {
			structs = append(structs, v.Index(i).Elem())
		}
	} else {
		structs = append(structs, v)
	}
	if len(structs) == 0 {
		return nil
	}
	table := db.Dialect().Tables().Get(structs[0].Type())
	args := make([]any, 0, len(table.Fields)*len(structs))
	for _, s := range structs {
		args = appendRowArgs(args, table, s)
	}
	_, err := rawConn(db).ExecContext(execAtCommit(ctx), boundInsertText(table, len(structs)), args...)
	return err
}

// insertBoundAll runs insertBound for each of models, in order.
func insertBoundAll(ctx context.Context, db bun.IDB, models ...any) error {
	for _, m := range models {
		if err := insertBound(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

// appendRowArgs appends the arguments of one row's columns, in the table's field order.
func appendRowArgs(args []any, table *schema.Table, row reflect.Value) []any {
	for _, f := range table.Fields {
		if f.NullZero && f.HasZeroValue(row) {
			args = append(args, nil)
			continue
		}
		args = append(args, f.Value(row).Interface())
	}
	return args
}

// boundInsertKey names one text of boundInsertText.
type boundInsertKey struct {
	table *schema.Table
	rows  int
}

// boundInsertTexts keeps the texts built so far: a process needs a few (a table, a row count).
var boundInsertTexts sync.Map

// boundInsertText is INSERT INTO table (every column) VALUES ($1, …), … for rows rows.
func boundInsertText(table *schema.Table, rows int) string {
	key := boundInsertKey{table: table, rows: rows}
	if text, ok := boundInsertTexts.Load(key); ok {
		return text.(string)
	}
	var q strings.Builder
	q.WriteString("INSERT INTO " + string(table.SQLName) + " (")
	for i, f := range table.Fields {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(string(f.SQLName))
	}
	q.WriteString(") VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for i := range table.Fields {
			if i > 0 {
				q.WriteString(", ")
			}
			n++
			q.WriteString("$" + strconv.Itoa(n))
		}
		q.WriteByte(')')
	}
	text, _ := boundInsertTexts.LoadOrStore(key, q.String())
	return text.(string)
}
