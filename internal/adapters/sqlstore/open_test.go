package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenRejectsUnknownURLs(t *testing.T) {
	for _, url := range []string{"mysql://root:secret@db/x", "sqlite:///tmp/x.db", "postgres"} {
		t.Run(url, func(t *testing.T) {
			_, _, err := Open(context.Background(), url, t.TempDir())
			if err == nil {
				t.Fatalf("Open(%q) succeeded; want an error", url)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOpenSQLiteCreatesFileWithPragmas(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "var", "data")
	db, dialect, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	if dialect != SQLite {
		t.Errorf("dialect = %q; want %q", dialect, SQLite)
	}
	if _, err := os.Stat(filepath.Join(dir, SQLiteFile)); err != nil {
		t.Errorf("database file: %v", err)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q; want %q", pragma, got, want)
		}
	}
}

// The database and its WAL and shared-memory files hold every order and idempotent answer (client
// secrets among them): only the service's user may read them, even under a permissive umask and
// when an older install left them readable.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	db, _, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := Migrate(ctx, db, SQLite); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	checkModes := func(when string) {
		t.Helper()
		for _, name := range []string{SQLiteFile, SQLiteFile + "-wal", SQLiteFile + "-shm"} {
			info, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %s: %v", when, name, err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: %s has mode %o; want 600", when, name, mode)
			}
		}
	}
	checkModes("after the first open")
	for _, name := range []string{SQLiteFile, SQLiteFile + "-wal", SQLiteFile + "-shm"} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db2, _, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	checkModes("after reopening files an older install left 0644")
	_ = db.Close()
}
