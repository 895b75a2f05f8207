package sqlstore

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// SQLite has one writer at a time, and every transaction here begins IMMEDIATE, taking the write
// lock. A connection that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5 …
// up to 100 ms between tries and serves nobody in order: a newcomer often takes the lock while
// an older waiter sleeps. Measured with `make bench-compare -sqlite` (32 customers), that was a
// p99 of 0.5 s for confirm → Paid and 0.2 s for a cash checkout. The writers of one process
// therefore take turns in Go, first come first served: a write transaction before it begins, a
// write statement outside a transaction for its run. The lock is handed on at once and in order,
// and the busy handler is left to what comes from another process on the same file.
//
// A writer that waits longer than the busy timeout (sqliteBusyTimeout) for its turn goes ahead
// anyway and waits in SQLite's handler as before, so a turn never waits forever where SQLite would
// have given up. Statements prepared ahead (none of the service's) take no turn.

// sqliteConn is what database/sql uses of a modernc SQLite connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// writeTurns hands the turns to write of one database, one at a time, in the order asked.
type writeTurns struct {
	turn    *semaphore.Weighted
	maxWait time.Duration
	waiting atomic.Int64
}

func newWriteTurns(maxWait time.Duration) *writeTurns {
	return &writeTurns{turn: semaphore.NewWeighted(1), maxWait: maxWait}
}

// take waits for the turn, at most maxWait, and returns what gives it back: a no-op when the wait
// ran out and the writer goes ahead without its turn.
func (w *writeTurns) take(ctx context.Context) (release func(), err error) {
	if !w.turn.TryAcquire(1) {
		if ok, err := w.wait(ctx); !ok {
			return func() {}, err
		}
	}
	return sync.OnceFunc(func() { w.turn.Release(1) }), nil
}

// wait waits for the turn, at most maxWait: ok when it came; an error when ctx ended first.
func (w *writeTurns) wait(ctx context.Context) (ok bool, err error) {
	waitCtx, cancel := context.WithTimeout(ctx, w.maxWait)
	defer cancel()
	w.waiting.Add(1)
	defer w.waiting.Add(-1)
	if err := w.turn.Acquire(waitCtx, 1); err != nil {
		return false, ctx.Err()
	}
	return true, nil
}

// turnConnector opens the connections of one SQLite database (modernc's connector), whose write
// transactions share turns.
type turnConnector struct {
	driver.Connector
	turns *writeTurns
}

func (c turnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &turnConn{sqliteConn: conn.(sqliteConn), turns: c.turns}, nil
}

// turnConn is a connection whose writers take their turn. It forwards every interface the
// driver's connections implement, as modernc asks of a wrapper. database/sql hands a connection
// to one goroutine at a time, so inTx needs no lock.
type turnConn struct {
	sqliteConn
	turns *writeTurns
	inTx  bool
}

// Unwrap is the driver's own connection.
func (c *turnConn) Unwrap() driver.Conn { return c.sqliteConn }

func (c *turnConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly { // begins DEFERRED: takes no write lock
		return c.sqliteConn.BeginTx(ctx, opts)
	}
	release, err := c.turns.take(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	c.inTx = true
	return turnTx{Tx: tx, end: func() { c.inTx = false; release() }}, nil
}

func (c *turnConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return inWriteTurn(ctx, c, query, func() (driver.Result, error) {
		return c.sqliteConn.ExecContext(ctx, query, args)
	})
}

func (c *turnConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return inWriteTurn(ctx, c, query, func() (driver.Rows, error) {
		return c.sqliteConn.QueryContext(ctx, query, args)
	})
}

// inWriteTurn runs a statement of c's, in a turn when it runs outside a transaction and may
// write: anything but a SELECT (INSERT … RETURNING comes through Query too). The turn covers the
// statement's start: a write whose RETURNING rows are read after Query returns holds SQLite's
// lock until they are, and a writer then waits in SQLite's handler.
func inWriteTurn[T any](ctx context.Context, c *turnConn, query string, run func() (T, error)) (T, error) {
	if c.inTx || readsOnly(query) {
		return run()
	}
	release, err := c.turns.take(ctx)
	if err != nil {
		var none T
		return none, err
	}
	defer release()
	return run()
}

// readsOnly reports whether query is a SELECT, which takes no write lock.
func readsOnly(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "select")
}

// turnTx ends its transaction's turn when it ends, either way.
type turnTx struct {
	driver.Tx
	end func()
}

func (t turnTx) Commit() error {
	defer t.end()
	return t.Tx.Commit()
}

func (t turnTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}
