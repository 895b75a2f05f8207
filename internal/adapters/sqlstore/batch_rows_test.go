package sqlstore

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
)

// A query sent in a batch (batchRows, as the first statement of a lazily begun transaction) must
// give database/sql the values pgx's own driver gives it for the same columns, NULLs included;
// a column it cannot read alike (an array, an interval) fails the read instead.
func TestBatchRowsReadWhatPgxReads_Postgres(t *testing.T) {
	ctx := context.Background()
	pool := oneTripPool(t)
	const query = `SELECT v.*, $1::text AS arg FROM (VALUES
		(1::int2, 2::int4, 3::int8, 4.50::numeric(5,2), (SELECT sum(6::bigint) * 1e20 + 0.000100), 'text'::text, 'vc'::varchar(5),
		 TRUE, '2026-12-03 10:11:12.345678+02'::timestamptz, '2026-12-03 10:11:12'::timestamp,
		 '2026-12-03'::date, '{"a": [1, "b"]}'::jsonb, '{"c": 2}'::json, '\x0102ff'::bytea,
		 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 1.25::float8, 7::oid, '18446744073709551615'::xid8),
		(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		 NULL, NULL, NULL)) AS v(i2, i4, i8, num, total, txt, vc, flag, tstz, ts, d, jb, js, bin, id, f8, o, xid)`
	read := func(q querier, query string) ([]string, [][]any, error) {
		rows, err := q.QueryContext(ctx, query, "argument")
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		columns, err := rows.Columns()
		if err != nil {
			return nil, nil, err
		}
		var all [][]any
		for rows.Next() {
			values := make([]any, len(columns))
			dest := make([]any, len(columns))
			for i := range values {
				dest[i] = &values[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return nil, nil, err
			}
			all = append(all, values)
		}
		return columns, all, rows.Err()
	}
	inBatch := func(query string) ([]string, [][]any, error) { // the transaction's first statement: in one batch with its BEGIN
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		return read(tx, query)
	}
	wantColumns, want, err := read(pool, query) // outside a transaction: pgx's driver reads it
	if err != nil {
		t.Fatal(err)
	}
	gotColumns, got, err := inBatch(query)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotColumns, wantColumns) {
		t.Errorf("columns %v; want %v", gotColumns, wantColumns)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows; want %d", len(got), len(want))
	}
	for r := range want {
		for c, name := range wantColumns {
			if !reflect.DeepEqual(got[r][c], want[r][c]) {
				t.Errorf("row %d, %s: %#v (%T); want %#v (%T)", r, name, got[r][c], got[r][c], want[r][c], want[r][c])
			}
		}
	}
	for _, refused := range []string{"ARRAY['x', 'y']::text[]", "'1 day'::interval"} {
		if _, _, err := inBatch("SELECT " + refused + ", $1::text"); err == nil || !strings.Contains(err.Error(), "pipelined batch") {
			t.Errorf("reading %s in a batch: %v; want it refused", refused, err)
		}
	}
}

// querier is a pool, a connection or a transaction of database/sql.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
