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
