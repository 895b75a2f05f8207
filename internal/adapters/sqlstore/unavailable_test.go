package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wolfix/orders/internal/domain/catalog"
)

func TestUnavailableClassifiesConnectionFailuresOnly(t *testing.T) {
	tests := []struct {
		name string
		err  error
		down bool
	}{
		{"a bad connection", fmt.Errorf("get product: %w", driver.ErrBadConn), true},
		{"a closed connection", sql.ErrConnDone, true},
		{"a refused dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"a statement past its deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		{"the server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"a connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"invalid text", &pgconn.PgError{Code: "22021"}, false},
		{"no rows", fmt.Errorf("get: %w", sql.ErrNoRows), false},
		{"a fault", catalog.ErrNotFound, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := unavailable(tc.err)
			if down := errors.Is(got, ErrDatabaseUnavailable); down != tc.down {
				t.Fatalf("unavailable(%v) = %v; database_unavailable = %v, want %v", tc.err, got, down, tc.down)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("the original error %v is lost in %v", tc.err, got)
			}
		})
	}
}

// SQLite still locked by another writer after the busy timeout is the database being unavailable,
// not a bug: the statement may well succeed when retried.
func TestUnavailableClassifiesSQLiteBusy(t *testing.T) {
	dir := t.TempDir()
	db, _, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holder, err := db.BeginTx(context.Background(), nil) // IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	impatient, err := sql.Open("sqlite", filepath.Join(dir, SQLiteFile)+"?_pragma=busy_timeout(20)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, err = impatient.Begin()
	if got := unavailable(err); !errors.Is(got, ErrDatabaseUnavailable) {
		t.Fatalf("a write lock held past the busy timeout: %v; want database_unavailable", got)
	}
}
