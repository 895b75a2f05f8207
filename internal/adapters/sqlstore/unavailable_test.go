package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wolfix/orders/internal/adapters/dbfault"
)

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
	if got := dbfault.Classify(err); !errors.Is(got, dbfault.ErrUnavailable) {
		t.Fatalf("a write lock held past the busy timeout: %v; want database_unavailable", got)
	}
}
