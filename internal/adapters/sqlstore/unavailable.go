package sqlstore

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/adapters/dbfault"
)

// classifyErrors makes every statement the pool runs outside a transaction (the repositories
// used on their own) report connection-level failures as dbfault.ErrUnavailable; statements in a
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
	return rows, dbfault.Classify(err)
}

func (c classifyingConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.pool.ExecContext(ctx, query, args...)
	return res, dbfault.Classify(err)
}

// QueryRowContext cannot change the error a *sql.Row reports; bun uses it only for counts.
func (c classifyingConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.pool.QueryRowContext(ctx, query, args...)
}
