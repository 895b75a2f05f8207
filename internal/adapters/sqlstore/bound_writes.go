package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	_, err := insertBoundOn(execAtCommit(ctx), db, rows, "")
	return err
}

// insertBoundOn is insertBound followed by ON conflict (as bun's InsertQuery.On takes it, e.g.
// "CONFLICT (id) DO NOTHING"; empty for none), held for the COMMIT only when ctx says so
// (execAtCommit); its result then counts nothing.
func insertBoundOn(ctx context.Context, db bun.IDB, rows any, conflict string) (sql.Result, error) {
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
		return driver.RowsAffected(0), nil
	}
	table := db.Dialect().Tables().Get(structs[0].Type())
	st := boundText(boundKey{table: table, rows: len(structs), clause: conflict}, boundInsert)
	args := make([]any, 0, len(st.set)*len(structs))
	for _, s := range structs {
		args = appendColumnArgs(args, st.set, s)
	}
	return rawExec(ctx, db, st.text, args...)
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

// updateBound updates one row of a bun model (a pointer to a row) by its primary key on Postgres,
// with $n arguments, held for the COMMIT like insertBound: it writes what bun's
// NewUpdate().Model(row).WherePK() writes, every column but the key's and skipupdate ones (NULL
// for the zero value of a nullzero field). With a guard column, the row is updated only where
// that column still holds guardValue, and the statement fails by itself (expect_one_row: SQLSTATE
// WX004) when that matched no row, so that even held, a lost check stops the COMMIT.
func updateBound(ctx context.Context, db bun.IDB, row any, guard string, guardValue any) error {
	v := reflect.Indirect(reflect.ValueOf(row))
	table := db.Dialect().Tables().Get(v.Type())
	st := boundText(boundKey{table: table, update: true, clause: guard}, boundUpdate)
	args := make([]any, 0, len(st.set)+len(table.PKs)+1)
	args = appendColumnArgs(args, st.set, v)
	args = appendColumnArgs(args, table.PKs, v)
	if guard != "" {
		args = append(args, guardValue)
	}
	_, err := rawExec(execAtCommit(ctx), db, st.text, args...)
	return err
}

// appendColumnArgs appends the arguments of one row's fields, in order.
func appendColumnArgs(args []any, fields []*schema.Field, row reflect.Value) []any {
	for _, f := range fields {
		if f.NullZero && f.HasZeroValue(row) {
			args = append(args, nil)
			continue
		}
		args = append(args, f.Value(row).Interface())
	}
	return args
}

// boundKey names one bound statement: an insert of rows rows followed by ON clause, or an update
// guarded by the column clause names.
type boundKey struct {
	table  *schema.Table
	update bool
	rows   int
	clause string
}

// boundStatement is a bound statement's text, and the fields whose values its first arguments
// are, one row's worth (an update's key, and its guard, follow).
type boundStatement struct {
	text string
	set  []*schema.Field
}

// boundStatements keeps the statements built so far: a process needs a few.
var boundStatements sync.Map

// boundText returns the statement key names, built once.
func boundText(key boundKey, build func(boundKey) boundStatement) boundStatement {
	if st, ok := boundStatements.Load(key); ok {
		return st.(boundStatement)
	}
	st, _ := boundStatements.LoadOrStore(key, build(key))
	return st.(boundStatement)
}

// boundInsert is INSERT INTO table (every column) VALUES ($1, …), … for key.rows rows, then
// ON key.clause.
func boundInsert(key boundKey) boundStatement {
	var q strings.Builder
	q.WriteString("INSERT INTO " + string(key.table.SQLName) + " (")
	for i, f := range key.table.Fields {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(string(f.SQLName))
	}
	q.WriteString(") VALUES ")
	n := 0
	for r := range key.rows {
		if r > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for i := range key.table.Fields {
			if i > 0 {
				q.WriteString(", ")
			}
			n++
			q.WriteString("$" + strconv.Itoa(n))
		}
		q.WriteByte(')')
	}
	if key.clause != "" {
		q.WriteString(" ON " + key.clause)
	}
	return boundStatement{text: q.String(), set: key.table.Fields}
}

// boundUpdate is UPDATE table SET column = $1, … WHERE key = $k, and, with a guard column
// (key.clause), AND guard = $m inside expect_one_row's check.
func boundUpdate(key boundKey) boundStatement {
	st := boundStatement{}
	for _, f := range key.table.DataFields {
		if !f.SkipUpdate() {
			st.set = append(st.set, f)
		}
	}
	var q strings.Builder
	n := 0
	placeholder := func() string { n++; return "$" + strconv.Itoa(n) }
	q.WriteString("UPDATE " + string(key.table.SQLName) + " SET ")
	for i, f := range st.set {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(string(f.SQLName) + " = " + placeholder())
	}
	q.WriteString(" WHERE ")
	for i, f := range key.table.PKs {
		if i > 0 {
			q.WriteString(" AND ")
		}
		q.WriteString(string(f.SQLName) + " = " + placeholder())
	}
	st.text = q.String()
	if key.clause != "" {
		st.text = "WITH updated AS (" + st.text + " AND " + key.clause + " = " + placeholder() +
			" RETURNING 1) SELECT expect_one_row(count(*), '" + key.table.Name + "') FROM updated"
	}
	return st
}
