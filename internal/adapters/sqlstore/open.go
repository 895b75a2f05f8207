// Package sqlstore owns the service's relational storage: opening PostgreSQL (pgx) or the embedded
// SQLite file (modernc, pure Go) behind one bun adapter, applying the schema migrations, and the
// repositories and transactions of app.Store over both dialects — products, orders, the webhook
// inbox (a leased queue), Idempotency-Key claims and their kept answers, the unpaid-reservation
// count, the sandbox's intents (shared by replicas), and the batched deletes of retention. Domain
// types are rebuilt from rows with their Restore helpers; bun models never leave this package.
// Connection-level failures leave it as dbfault.ErrUnavailable.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
)

// Dialect names the SQL database behind a *bun.DB.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// SQLiteFile is the name of the embedded database file inside the data directory.
const SQLiteFile = "wolfix.db"

// sqliteBusyTimeout is how long a write waits for SQLite's write lock, in turn (sqliteturns.go)
// and in SQLite's busy handler.
const sqliteBusyTimeout = 10 * time.Second

// sqliteParams makes every connection wait for locks instead of failing at once, lets readers run
// beside the one writer (WAL), enforces foreign keys, and begins every write transaction
// IMMEDIATE so that a read-then-write transaction never fails half-way with SQLITE_BUSY.
var sqliteParams = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate",
	sqliteBusyTimeout.Milliseconds())

// Pool sizes. SQLite has one writer at a time, so a few connections serve it; Postgres gets enough
// for concurrent requests and the relay without crowding its default max_connections of 100.
const (
	sqliteMaxConns   = 8
	postgresMaxConns = 16
	maxIdleTime      = 5 * time.Minute
)

// Open connects to databaseURL: postgres:// or postgresql:// opens PostgreSQL through pgx; an
// empty URL opens (and creates) the SQLite file <dataDir>/wolfix.db. It pings the database before
// returning, so a wrong address fails here and not on the first request.
func Open(ctx context.Context, databaseURL, dataDir string) (*bun.DB, Dialect, error) {
	db, dialect, err := open(databaseURL, dataDir)
	if err != nil {
		return nil, "", err
	}
	traceQueries(db)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, "", fmt.Errorf("ping %s database: %w", dialect, err)
	}
	return db, dialect, nil
}

func open(databaseURL, dataDir string) (*bun.DB, Dialect, error) {
	switch {
	case databaseURL == "":
		db, err := openSQLite(dataDir)
		return db, SQLite, err
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		db, err := openPostgres(databaseURL)
		return db, Postgres, err
	}
	return nil, "", fmt.Errorf("unsupported database URL %q: want postgres://… or postgresql://…, or empty for the embedded SQLite file", redact(databaseURL))
}

func openSQLite(dataDir string) (*bun.DB, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("open sqlite: no data directory configured")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: create data directory: %w", err)
	}
	path := filepath.Join(dataDir, SQLiteFile)
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqldb, err := openSQLitePool(path, newWriteTurns(sqliteBusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return bun.NewDB(sqldb, sqlitedialect.New(), classifyErrors(sqldb)), nil
}

// ownerOnly creates the database file with mode 0600 when it is missing, and takes group and
// other permissions away from it and from its -wal and -shm files when they exist (an older
// install). SQLite creates -wal and -shm with the mode of the database file, so they stay 0600.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_ = f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// openSQLitePool is the pool of the SQLite file at path, whose writers take turns.
func openSQLitePool(path string, turns *writeTurns) (*sql.DB, error) {
	base, err := sqlite.NewConnector(path + "?" + sqliteParams)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(turnConnector{Connector: base, turns: turns})
	configurePool(sqldb, sqliteMaxConns)
	return sqldb, nil
}

func openPostgres(databaseURL string) (*bun.DB, error) {
	sqldb, err := openPostgresPool(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	configurePool(sqldb, postgresMaxConns)
	return bun.NewDB(sqldb, pgdialect.New(), classifyErrors(sqldb)), nil
}

func configurePool(db *sql.DB, maxConns int) {
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(maxIdleTime)
}

// redact keeps only the scheme of a URL, so that a password never reaches a log line.
func redact(databaseURL string) string {
	if scheme, _, ok := strings.Cut(databaseURL, "://"); ok {
		return scheme + "://…"
	}
	return "…"
}
