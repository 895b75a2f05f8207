// Package dbfault owns the one rule that tells "the database cannot serve now" (a lost or refused
// connection, a server shutting down or out of connections, a statement past its deadline, SQLite
// still locked after its busy timeout) from a statement that failed on its merits. Every adapter
// that talks to the database — the store, the consumers' dedupe inbox — passes its errors through
// Classify, so an outage is a 503 with Retry-After at the edge and a wait-and-retry in the
// workers, never a 500 or a poisoned event.
package dbfault

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wolfix/orders/internal/domain/fault"
)

// ErrUnavailable is how a database error that says "cannot be reached or cannot serve now" leaves
// an adapter. It is a fault.KindUnavailable; the original error stays reachable with errors.As
// for the logs.
var ErrUnavailable = fault.Unavailable("database_unavailable", "the database is unavailable; try again shortly")

// Classify returns err as ErrUnavailable when it is a connection-level failure, and err unchanged
// otherwise (nil stays nil, faults stay what they are).
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if _, isFault := fault.As(err); isFault {
		return err
	}
	if connectionLost(err) {
		return ErrUnavailable.Wrap(err)
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
