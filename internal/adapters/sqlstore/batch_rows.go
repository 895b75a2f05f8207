package sqlstore

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// batchRows are the rows of a query sent last in a pipelined batch (oneTripConn.queryWithHeld),
// as database/sql reads them: each value decoded by its type's codec into the driver value that
// codec gives database/sql (int64 for every integer, time.Time, string, []byte, bool…). Closing
// them reads the batch to its end.
type batchRows struct {
	rows    pgx.Rows
	results pgx.BatchResults
	types   *pgtype.Map
	columns []string
	// preloaded says the first row was already read (by newBatchRows, so that a failing query
	// fails the Query call itself, as with pgx's database/sql driver); more is what that read said.
	preloaded, more bool
}

func newBatchRows(rows pgx.Rows, results pgx.BatchResults, types *pgtype.Map) (*batchRows, error) {
	r := &batchRows{rows: rows, results: results, types: types, preloaded: true, more: rows.Next()}
	if rows.Err() != nil {
		return nil, r.Close() // the query's failure (Close returns it, with the batch's if that fails too)
	}
	return r, nil
}

func (r *batchRows) Columns() []string {
	if r.columns == nil {
		for _, f := range r.rows.FieldDescriptions() {
			r.columns = append(r.columns, f.Name)
		}
	}
	return r.columns
}

func (r *batchRows) Close() error {
	r.rows.Close()
	return errors.Join(r.rows.Err(), r.results.Close())
}

func (r *batchRows) Next(dest []driver.Value) error {
	if r.preloaded {
		r.preloaded = false
	} else {
		r.more = r.rows.Next()
	}
	if !r.more {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	fields := r.rows.FieldDescriptions()
	for i, raw := range r.rows.RawValues() {
		v, err := r.value(fields[i], raw)
		if err != nil {
			return err
		}
		dest[i] = v
	}
	return nil
}

// value decodes one column. A type the map does not know arrives as text (pgx asks for it so).
func (r *batchRows) value(field pgconn.FieldDescription, raw []byte) (driver.Value, error) {
	if raw == nil {
		return nil, nil
	}
	if field.Format == pgtype.BinaryFormatCode && !decodedAlikeFromBinary[field.DataTypeOID] {
		if field.DataTypeOID == pgtype.XID8OID {
			return xid8Text(raw)
		}
		return nil, fmt.Errorf("sqlstore: column %q (type oid %d) reads differently in a pipelined batch; read it outside one",
			field.Name, field.DataTypeOID)
	}
	t, known := r.types.TypeForOID(field.DataTypeOID)
	if !known {
		return string(raw), nil
	}
	return t.Codec.DecodeDatabaseSQLValue(r.types, field.DataTypeOID, field.Format, raw)
}

// xid8Text is a binary xid8 (the outbox's transaction ids) as pgx's database/sql driver gives it,
// which asks for it as text: its decimal digits.
func xid8Text(raw []byte) (driver.Value, error) {
	if len(raw) != 8 {
		return nil, fmt.Errorf("sqlstore: an xid8 of %d bytes", len(raw))
	}
	return strconv.FormatUint(binary.BigEndian.Uint64(raw), 10), nil
}

// decodedAlikeFromBinary are the types a batch may read in binary: their database/sql value is the
// one pgx's database/sql driver gives, which asks for the others as text. A batch cannot ask so
// (pgx takes each type's preferred format), and an array or an interval decoded from binary is
// not what that driver gives: batchRows refuses them rather than give something else.
// TestBatchRowsReadWhatPgxReads_Postgres holds both sides to this.
var decodedAlikeFromBinary = map[uint32]bool{
	pgtype.BoolOID: true, pgtype.ByteaOID: true, pgtype.Int2OID: true, pgtype.Int4OID: true, pgtype.Int8OID: true,
	pgtype.Float4OID: true, pgtype.Float8OID: true, pgtype.NumericOID: true, pgtype.DateOID: true,
	pgtype.TimestampOID: true, pgtype.TimestamptzOID: true, pgtype.JSONOID: true, pgtype.JSONBOID: true,
	pgtype.UUIDOID: true, pgtype.OIDOID: true, pgtype.XIDOID: true, pgtype.CIDOID: true,
}
