package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/wolfix/orders/internal/adapters/dbfault"
	"github.com/wolfix/orders/internal/app"
)

// OutboxOpener binds the transactional outbox to one open transaction. The outbox adapter supplies
// it; it receives the raw *sql.Tx under the bun transaction, because watermill-sql needs that and
// not a bun.Tx (whose ExecContext would reformat its $n placeholders).
type OutboxOpener func(ctx context.Context, tx *sql.Tx) (app.Outbox, error)

// ErrNoOutbox is returned by Publish when the store was built without an outbox.
var ErrNoOutbox = errors.New("sqlstore: no outbox configured")

// Store is app.Store over bun: its repositories run each call on its own, and InTx gives
// repositories and the outbox bound to one transaction.
type Store struct {
	repos
	pool   *bun.DB
	outbox OutboxOpener
}

var (
	_ app.Store   = (*Store)(nil)
	_ app.StoreTx = (*tx)(nil)
)

// NewStore builds the store. outbox may be nil for tools that never publish events (migrate,
// seed); Publish then fails with ErrNoOutbox.
func NewStore(db *bun.DB, dialect Dialect, outbox OutboxOpener) *Store {
	return &Store{repos: repos{db: db, dialect: dialect}, pool: db, outbox: outbox}
}

// InTx runs fn in one transaction, commits when fn returns nil and reports a failed commit; any
// error or panic of fn rolls back. On SQLite the transaction begins IMMEDIATE (see Open), so
// transactions that write run one at a time. A lost database is dbfault.ErrUnavailable.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx app.StoreTx) error) error {
	return runInTx(ctx, s.pool, func(ctx context.Context, btx bun.Tx) error {
		return fn(ctx, &tx{repos: repos{db: btx, dialect: s.dialect, inTx: true},
			outbox: &lazyOutbox{open: s.outbox, tx: btx.Tx}})
	})
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.PingContext(ctx); err != nil {
		return dbfault.Classify(fmt.Errorf("ping database: %w", err))
	}
	return nil
}

// tx is app.StoreTx: the repositories and the outbox of one open transaction.
type tx struct {
	repos
	outbox *lazyOutbox
}

func (t *tx) Outbox() app.Outbox { return t.outbox }

// repos are the repositories over one bun.IDB: the pool, or a transaction when inTx.
type repos struct {
	db      bun.IDB
	dialect Dialect
	inTx    bool
}

func (r repos) Products() app.ProductRepository { return productRepo{r} }
func (r repos) Orders() app.OrderRepository     { return orderRepo{r} }
func (r repos) Webhooks() app.WebhookInbox      { return webhookInbox{r} }
func (r repos) Idempotency() app.IdempotencyStore {
	return idempotencyStore{r}
}

// transact runs fn in the current transaction, or in a new one when the repositories run on the
// pool, so that several statements (and a row lock taken by lockRoot) form one unit.
func (r repos) transact(ctx context.Context, fn func(ctx context.Context, db bun.IDB) error) error {
	if r.inTx {
		return fn(ctx, r.db)
	}
	return runInTx(ctx, r.db, func(ctx context.Context, btx bun.Tx) error { return fn(ctx, btx) })
}

// lockRoot takes the row lock of an aggregate's root (a nil pointer of its model, primary key id)
// until the transaction ends, before the aggregate is read. Postgres needs SELECT … FOR UPDATE, and
// it must be a statement of its own: under READ COMMITTED a locking SELECT that waited re-reads
// only the rows it locks, so children joined into it (an order's payment) would come from the
// stale snapshot. SQLite has no row locks; its IMMEDIATE transaction already holds the only write
// lock.
//
// It is an Exec with its id as $1: prepared once per connection, and as a transaction's first
// statement it travels with the BEGIN (oneTripConn); a missing row is sql.ErrNoRows.
func (r repos) lockRoot(ctx context.Context, db bun.IDB, model any, id string) error {
	if r.dialect != Postgres {
		return nil
	}
	res, err := rawExec(ctx, db, lockRootQuery(db, model), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmp.Or(err, sql.ErrNoRows)
	}
	return nil
}

// lockRootQuery is lockRoot's statement for model's table (Postgres).
func lockRootQuery(db bun.IDB, model any) string {
	table := db.Dialect().Tables().Get(reflect.TypeOf(model).Elem())
	return "SELECT 1 FROM " + string(table.SQLName) + " WHERE id = $1 FOR UPDATE"
}

// sqlConn is the database/sql handle under a bun.IDB, for statements bun must not reformat.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rawExec runs a statement with $n arguments (which bun would inline) on db's database/sql handle,
// past bun's hooks; inside a trace it is a span of its own, as execAll's texts are (traceText).
func rawExec(ctx context.Context, db bun.IDB, query string, args ...any) (sql.Result, error) {
	if !tracesText(ctx) {
		return rawConn(db).ExecContext(ctx, query, args...)
	}
	end := traceText(ctx, db, []string{query})
	res, err := rawConn(db).ExecContext(ctx, query, args...)
	end(err)
	return res, err
}

// rawConn returns the transaction's *sql.Tx inside one, else the pool (its errors classified as
// bun's own statements on the pool are).
func rawConn(db bun.IDB) sqlConn {
	switch d := db.(type) {
	case bun.Tx:
		return d.Tx
	case *bun.DB:
		return classifyingConn{d.DB}
	}
	panic(fmt.Sprintf("sqlstore: no database/sql handle under %T", db))
}

// execAll sends queries, built by bun, as one text: on Postgres one round trip (a statement
// without arguments goes over the simple protocol, which runs several), on SQLite one call; it is
// one span (traceText), as bun's hooks never see it. Its result is the last statement's. It belongs in a transaction: a failing statement stops the
// rest, and only the rollback undoes the ones before it.
func execAll(ctx context.Context, db bun.IDB, queries ...bun.Query) (sql.Result, error) {
	gen := schema.NewQueryGen(db.Dialect())
	var text []byte
	var statements []string // their beginnings, for the span; none when it would not be recorded
	traced := tracesText(ctx)
	for _, q := range queries {
		start := len(text)
		var err error
		if text, err = q.AppendQuery(gen, text); err != nil {
			return nil, err
		}
		if traced {
			statements = append(statements, string(text[start:min(len(text), start+16)]))
		}
		text = append(text, ";\n"...)
	}
	end := traceText(ctx, db, statements)
	res, err := rawConn(db).ExecContext(ctx, string(text))
	end(err)
	return res, err
}

// runInTx begins a transaction, runs fn, and commits; it rolls back when fn fails or panics, and
// returns the commit's own error, since a failed commit means nothing was stored. Every error
// leaves through the classifier, so a lost connection is dbfault.ErrUnavailable.
func runInTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return dbfault.Classify(runInTxUnclassified(ctx, db, fn))
}

func runInTxUnclassified(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	btx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = btx.Rollback() // fn's error (or panic) is what the caller needs to see
		}
	}()
	// A check held for the COMMIT (execAtCommit: a stock reservation, the unpaid cap) that
	// refuses fails the COMMIT, or the statement the transaction ran after it: raisedFault turns
	// the refusal back into the domain's error.
	if err := fn(ctx, btx); err != nil {
		return raisedFault(err)
	}
	committed = true
	if err := btx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", raisedFault(err))
	}
	return nil
}

// lazyOutbox opens the outbox on the first Publish, so transactions that publish nothing never
// build a publisher, and one transaction never builds two. On Postgres the outbox's insert travels
// with the COMMIT (execAtCommit): nothing in the transaction reads the outbox back.
type lazyOutbox struct {
	open OutboxOpener
	tx   *sql.Tx
	box  app.Outbox
}

func (o *lazyOutbox) Publish(ctx context.Context, events ...app.Event) error {
	if o.box == nil {
		if o.open == nil {
			return ErrNoOutbox
		}
		box, err := o.open(ctx, o.tx)
		if err != nil {
			return fmt.Errorf("open outbox: %w", err)
		}
		o.box = box
	}
	return o.box.Publish(execAtCommit(ctx), events...)
}
