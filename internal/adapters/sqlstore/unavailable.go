package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wolfix/orders/internal/domain/fault"
)

// ErrDatabaseUnavailable is how every storage error that says "the database cannot be reached
// or cannot serve now" leaves the store: a lost or refused connection, a server shutting down or
// out of connections, a statement that timed out, or SQLite still locked after its busy timeout.
// It is a fault.KindUnavailable, so the HTTP adapter answers 503 with Retry-After, and the
// original error stays reachable with errors.As for the logs.
var ErrDatabaseUnavailable = fault.Unavailable("database_unavailable", "the database is unavailable; try again shortly")

// unavailable returns err as ErrDatabaseUnavailable when it is a connection-level failure, and
// err unchanged otherwise (nil stays nil, faults stay what they are). It is the one classifier
// of the store: transactions (runInTx), Ping, and the pool's statements (classifyErrors) pass
// their errors through it on the way out.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if _, isFault := fault.As(err); isFault {
		return err
	}
	if connectionLost(err) {
		return ErrDatabaseUnavailable.Wrap(err)
	}
	return err
}

// connectionLost reports whether err means the database could not be reached or could not serve.
func connectionLost(err error) bool {
	var (
		connect *pgconn.ConnectError
		pg      *pgconn.PgError
		netErr  net.Error
		lite    *sqlite.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &connect), errors.As(err, &netErr), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pg):
		return unavailableState(pg.Code)
	case errors.As(err, &lite):
		code := lite.Code() & 0xff // the primary result code of an extended one
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	// pgx reports a connection closed under a statement only as text.
	return strings.Contains(err.Error(), "conn closed")
}

// unavailableState reports whether a PostgreSQL SQLSTATE is about the server's availability:
// class 08 (connection exception), 53 (insufficient resources: too many connections, out of
// memory or disk), 57P01-57P03 (shutting down, crashed, starting up) and 57014 (statement
// timeout or cancel).
func unavailableState(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") ||
		code == "57P01" || code == "57P02" || code == "57P03" || code == "57014"
}

// classifyErrors makes every statement the pool runs outside a transaction (the repositories
// used on their own) report connection-level failures as ErrDatabaseUnavailable; statements in a
// transaction are classified by runInTx. It is a bun connection resolver that always resolves to
// the one pool.
func classifyErrors(pool *sql.DB) bun.DBOption {
	return bun.WithConnResolver(classifyingResolver{classifyingConn{pool}})
}

type classifyingResolver struct{ conn classifyingConn }

func (r classifyingResolver) ResolveConn(context.Context, bun.Query) bun.IConn { return r.conn }

func (classifyingResolver) Close() error { return nil } // the pool is closed by bun.DB.Close

// classifyingConn runs statements on the pool and classifies their errors.
type classifyingConn struct{ pool *sql.DB }

func (c classifyingConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := c.pool.QueryContext(ctx, query, args...)
	return rows, unavailable(err)
}

func (c classifyingConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.pool.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}

// QueryRowContext cannot change the error a *sql.Row reports; bun uses it only for counts.
func (c classifyingConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.pool.QueryRowContext(ctx, query, args...)
}
