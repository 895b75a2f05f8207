package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgresPool opens the database/sql pool over pgx whose queries without arguments run in
// one round trip (see oneTripConn).
func openPostgresPool(databaseURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(oneTripConnector{stdlib.GetConnector(*cfg)}), nil
}

// oneTripConnector hands out oneTripConns.
type oneTripConnector struct{ driver.Connector }

func (c oneTripConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pgxConn, ok := conn.(*stdlib.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("pgx connector returned %T, want *stdlib.Conn", conn)
	}
	return oneTripConn{pgxConn}, nil
}

// oneTripConn is pgx's database/sql connection, except that a query without arguments goes over
// the simple protocol in one round trip, as pgx already does for Exec. bun sends every statement
// with its arguments inlined, so each text is new: pgx's statement cache would prepare it (a
// round trip of its own), keep it, and deallocate older ones to make room, on every query.
// Statements sent with $n arguments still use the cache: prepared once per connection, then one
// round trip each.
type oneTripConn struct{ *stdlib.Conn }

func (c oneTripConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		args = []driver.NamedValue{{Ordinal: 1, Value: pgx.QueryExecModeSimpleProtocol}}
	}
	return c.Conn.QueryContext(ctx, query, args)
}
