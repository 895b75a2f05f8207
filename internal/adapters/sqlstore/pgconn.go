package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	return &oneTripConn{Conn: pgxConn}, nil
}

// oneTripConn is pgx's database/sql connection with fewer round trips:
//
//   - A query without arguments goes over the simple protocol in one round trip, as pgx already
//     does for Exec. bun sends every statement with its arguments inlined, so each text is new:
//     pgx's statement cache would prepare it (a round trip of its own), keep it, and deallocate
//     older ones to make room, on every query. Statements sent with $n arguments still use the
//     cache: prepared once per connection, then one round trip each.
//   - A transaction begins lazily: its BEGIN (with its isolation level) travels in front of the
//     transaction's first statement (an Exec without arguments: the simple protocol runs both in
//     one round trip; an Exec or a Query with arguments: one pipelined batch; either way the
//     result is still that statement's), and alone just before a first Query without arguments.
//     A transaction that runs nothing sends nothing.
//   - In such a transaction, an Exec whose context says so (execAtCommit: a checkout's inserts, an
//     order's save, the outbox's insert and the stock reservation, whose results nobody reads) is
//     held and sent with the COMMIT, in one pipelined round trip; if it fails, the commit fails and
//     the transaction is rolled back. A statement the transaction runs after it sends what was
//     held first (a statement with arguments in the same batch), so the transaction still reads
//     its own writes; a held statement that fails then fails that statement instead. So a row lock
//     held this way travels with the read that follows it (orderRepo.loadLocked).
//
// database/sql uses a connection from one goroutine at a time, so its fields need no lock.
type oneTripConn struct {
	*stdlib.Conn
	pendingBegin string     // the BEGIN statement of a lazily begun transaction, until it goes out
	inLazyTx     bool       // a transaction begun by BeginTx is open
	atCommit     []heldExec // statements to send with the COMMIT
}

// heldExec is an Exec held for the COMMIT.
type heldExec struct {
	query string
	args  []any
}

// execAtCommitKey marks a context whose Execs may be held for the transaction's COMMIT.
type execAtCommitKey struct{}

// execAtCommit lets the Execs made with the returned context, inside a lazily begun Postgres
// transaction, travel with its COMMIT, or with the transaction's next statement if that comes
// first: for a statement whose result nobody reads. Elsewhere it changes nothing.
func execAtCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, execAtCommitKey{}, true)
}

func (c *oneTripConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 && (c.pendingBegin != "" || len(c.atCommit) > 0) {
		return c.queryWithHeld(ctx, heldExec{query: query, args: argValues(args)})
	}
	if err := c.sendHeld(ctx); err != nil {
		return nil, err
	}
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		args = []driver.NamedValue{{Ordinal: 1, Value: pgx.QueryExecModeSimpleProtocol}}
	}
	return c.Conn.QueryContext(ctx, query, args)
}

func (c *oneTripConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inLazyTx && ctx.Value(execAtCommitKey{}) != nil {
		c.atCommit = append(c.atCommit, heldExec{query: query, args: argValues(args)})
		return driver.ResultNoRows, nil
	}
	if len(args) > 0 && (c.pendingBegin != "" || len(c.atCommit) > 0) {
		tag, err := c.sendHeldWith(ctx, heldExec{query: query, args: argValues(args)})
		if err != nil {
			return nil, err
		}
		return driver.RowsAffected(tag.RowsAffected()), nil
	}
	if err := c.sendHeld(ctx); err != nil {
		return nil, err
	}
	if begin := c.pendingBegin; begin != "" {
		c.pendingBegin = ""
		return c.Conn.ExecContext(ctx, begin+";\n"+query, nil)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

// argValues are a statement's arguments as pgx takes them in a batch.
func argValues(args []driver.NamedValue) []any {
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = a.Value
	}
	return values
}

// begin sends the pending BEGIN on its own.
func (c *oneTripConn) begin(ctx context.Context) error {
	begin := c.pendingBegin
	if begin == "" {
		return nil
	}
	c.pendingBegin = ""
	_, err := c.Conn.ExecContext(ctx, begin, nil)
	return err
}

// BeginTx begins lazily (see oneTripConn), with the isolation level and access mode asked for in
// the BEGIN that goes out later: Postgres takes a REPEATABLE READ or SERIALIZABLE transaction's
// snapshot at its first statement, not at its BEGIN, so a later BEGIN changes nothing of what the
// transaction sees. An isolation level Postgres has no name for begins at once, through pgx.
func (c *oneTripConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	begin, ok := beginStatement(opts)
	if !ok {
		return c.Conn.BeginTx(ctx, opts)
	}
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	c.pendingBegin, c.inLazyTx = begin, true
	return lazyTx{conn: c, ctx: ctx}, nil
}

// isolationLevels are the isolation levels Postgres names, as BEGIN takes them.
var isolationLevels = map[sql.IsolationLevel]string{
	sql.LevelDefault:         "",
	sql.LevelReadUncommitted: " ISOLATION LEVEL READ UNCOMMITTED",
	sql.LevelReadCommitted:   " ISOLATION LEVEL READ COMMITTED",
	sql.LevelRepeatableRead:  " ISOLATION LEVEL REPEATABLE READ",
	sql.LevelSerializable:    " ISOLATION LEVEL SERIALIZABLE",
}

// beginStatement is the BEGIN that opens a transaction with opts; ok is false for an isolation
// level Postgres has no name for.
func beginStatement(opts driver.TxOptions) (begin string, ok bool) {
	level, ok := isolationLevels[sql.IsolationLevel(opts.Isolation)]
	if !ok {
		return "", false
	}
	if opts.ReadOnly {
		return "BEGIN" + level + " READ ONLY", true
	}
	return "BEGIN" + level, true
}

// ResetSession forgets a BEGIN that never went out, before the pool hands the connection on; a
// connection still inside a transaction (one whose end failed) is not handed on.
func (c *oneTripConn) ResetSession(ctx context.Context) error {
	c.pendingBegin, c.inLazyTx, c.atCommit = "", false, nil
	if c.Conn.Conn().PgConn().TxStatus() != 'I' {
		return driver.ErrBadConn
	}
	return c.Conn.ResetSession(ctx)
}

// lazyTx ends a transaction begun by oneTripConn.BeginTx; like pgx's own, it ends it with ctx,
// the context the transaction began with.
type lazyTx struct {
	conn *oneTripConn
	ctx  context.Context
}

// Commit commits, or does nothing when the transaction never began. A transaction that failed is
// rolled back by Postgres's COMMIT, which says so: that is pgx.ErrTxCommitRollback, as from pgx.
func (t lazyTx) Commit() error {
	if len(t.conn.atCommit) > 0 {
		return t.conn.commitHeld(t.ctx)
	}
	tag, err := t.end("COMMIT")
	if err == nil && tag == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return err
}

func (t lazyTx) Rollback() error {
	_, err := t.end("ROLLBACK")
	return err
}

// end sends statement (COMMIT or ROLLBACK) and returns its command tag, unless the transaction
// never began: then there is nothing to end. Statements held for the COMMIT are dropped.
func (t lazyTx) end(statement string) (string, error) {
	t.conn.inLazyTx, t.conn.atCommit = false, nil
	if t.conn.pendingBegin != "" {
		t.conn.pendingBegin = ""
		return "", nil
	}
	tag, err := t.conn.Conn.Conn().Exec(t.ctx, statement)
	if err != nil {
		err = t.conn.rollBackOnServer(t.ctx, err)
	}
	return tag.String(), err
}

// rollbackTimeout bounds the ROLLBACK that ends a transaction whose own end failed.
const rollbackTimeout = 5 * time.Second

// rollBackOnServer ends a transaction that is still open on the server after its COMMIT or
// ROLLBACK failed with err, most often because its context ended first (a client that hung up),
// so that the statement never went out: it sends ROLLBACK without that context. Left open, the
// transaction would keep its row locks, and hold back the snapshot horizon up to which the outbox
// relay reads, until the pool happened to hand its connection out again. When even the ROLLBACK
// fails, the returned error is also driver.ErrBadConn: database/sql then closes the connection,
// which ends the transaction.
func (c *oneTripConn) rollBackOnServer(ctx context.Context, err error) error {
	if pg := c.Conn.Conn().PgConn(); pg.IsClosed() || pg.TxStatus() == 'I' {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, rollbackErr := c.Conn.Conn().Exec(ctx, "ROLLBACK"); rollbackErr != nil {
		return fmt.Errorf("%w; then ROLLBACK: %w", err, errors.Join(rollbackErr, driver.ErrBadConn))
	}
	return err
}

// commitHeld sends the statements held for the COMMIT and the COMMIT in one pipelined batch (and
// the BEGIN first, if nothing sent it yet). When one of them fails, Postgres skips the rest: the
// transaction is rolled back and that failure returned.
func (c *oneTripConn) commitHeld(ctx context.Context) error {
	held := len(c.atCommit)
	tag, err := c.sendHeldWith(ctx, heldExec{query: "COMMIT"})
	c.inLazyTx = false
	if err != nil {
		return fmt.Errorf("commit with %d held statements: %w", held, c.rollBackOnServer(ctx, err))
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// sendHeld sends the statements held for the COMMIT now, in one pipelined batch (with the pending
// BEGIN), because the transaction runs another statement, which must see their effects.
func (c *oneTripConn) sendHeld(ctx context.Context) error {
	if len(c.atCommit) == 0 {
		return nil
	}
	if _, err := c.sendHeldWith(ctx, heldExec{}); err != nil {
		return fmt.Errorf("statement held for the commit: %w", err)
	}
	return nil
}

// sendHeldWith sends the pending BEGIN, the held statements and then last (unless empty) in one
// pipelined batch, and returns the command tag of the batch's last statement. It stops at the
// first failure, which Postgres also does: the rest is skipped and the transaction has failed.
func (c *oneTripConn) sendHeldWith(ctx context.Context, last heldExec) (pgconn.CommandTag, error) {
	batch := c.heldBatch(last)
	results := c.Conn.Conn().SendBatch(ctx, batch)
	tag, err := execEach(results, batch.Len())
	if closeErr := results.Close(); err == nil {
		err = closeErr
	}
	return tag, err
}

// queryWithHeld sends the pending BEGIN and the held statements in one pipelined batch with query
// last, and returns query's rows; a failing statement before it fails the query.
func (c *oneTripConn) queryWithHeld(ctx context.Context, query heldExec) (driver.Rows, error) {
	batch := c.heldBatch(query)
	results := c.Conn.Conn().SendBatch(ctx, batch)
	if _, err := execEach(results, batch.Len()-1); err != nil {
		_ = results.Close()
		return nil, err
	}
	rows, err := results.Query()
	if err != nil {
		_ = results.Close()
		return nil, err
	}
	return newBatchRows(rows, results, c.Conn.Conn().TypeMap())
}

// heldBatch queues the pending BEGIN, the held statements and then last (unless empty), which
// from then on are the batch's to send.
func (c *oneTripConn) heldBatch(last heldExec) *pgx.Batch {
	batch := &pgx.Batch{}
	if c.pendingBegin != "" {
		batch.Queue(c.pendingBegin)
	}
	for _, h := range c.atCommit {
		batch.Queue(h.query, h.args...)
	}
	if last.query != "" {
		batch.Queue(last.query, last.args...)
	}
	c.pendingBegin, c.atCommit = "", nil
	return batch
}

// execEach reads the results of the batch's next n statements, and returns the last one's command
// tag or the first failure (after which Postgres skipped the rest).
func execEach(results pgx.BatchResults, n int) (tag pgconn.CommandTag, err error) {
	for range n {
		if tag, err = results.Exec(); err != nil {
			return tag, err
		}
	}
	return tag, nil
}
