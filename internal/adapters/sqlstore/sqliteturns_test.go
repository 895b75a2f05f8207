package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// turnsDB is a SQLite pool whose writers take turns in turns, with a table w(n) to write to.
func turnsDB(t *testing.T, turns *writeTurns) *sql.DB {
	t.Helper()
	db, err := openSQLitePool(filepath.Join(t.TempDir(), SQLiteFile), turns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec("CREATE TABLE w (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// waitUntilWaiting polls until n writers wait for their turn. A writer is counted just before it
// joins the queue, so the poll then gives it a moment to join, and the next writer queues behind.
func waitUntilWaiting(t *testing.T, turns *writeTurns, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); turns.waiting.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers wait for their turn; want %d", turns.waiting.Load(), n)
		}
	}
	time.Sleep(20 * time.Millisecond)
}

func TestSQLiteWritersTakeTurnsInTheOrderTheyAsked(t *testing.T) {
	turns := newWriteTurns(sqliteBusyTimeout)
	db := turnsDB(t, turns)
	ctx := context.Background()
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Writers queue one after another behind the open transaction: transactions and statements
	// outside one alike. SQLite's busy handler would let them in in no particular order. Each
	// holds a connection while it waits; one is left for the read.
	const writers = sqliteMaxConns - 2
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- write(ctx, db, i)
		}()
		waitUntilWaiting(t, turns, int64(i+1))
	}

	// A read takes no turn.
	var count int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM w").Scan(&count); err != nil || count != 0 {
		t.Fatalf("a read beside the waiting writers: count %d, %v", count, err)
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT n FROM w ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		order = append(order, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := make([]int, writers)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Fatalf("writes landed in the order %v; want the order they asked in, %v", order, want)
	}
}

// write is writer i: even ones write in a transaction, odd ones in a statement of their own.
func write(ctx context.Context, db *sql.DB, i int) error {
	if i%2 == 1 {
		_, err := db.ExecContext(ctx, "INSERT INTO w (n) VALUES (?)", i)
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO w (n) VALUES (?)", i); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func TestASQLiteWriterThatWaitsTooLongGoesAheadToSQLitesOwnWait(t *testing.T) {
	turns := newWriteTurns(50 * time.Millisecond)
	db := turnsDB(t, turns)
	ctx := context.Background()
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- write(ctx, db, 1) }()
	waitUntilWaiting(t, turns, 1)
	waitUntilWaiting(t, turns, 0) // gave up its turn after 50 ms: now in SQLite's busy handler
	time.Sleep(20 * time.Millisecond)
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the writer that went ahead without its turn: %v", err)
	}
}

func TestASQLiteWriterWhoseRequestEndsStopsWaitingForItsTurn(t *testing.T) {
	turns := newWriteTurns(sqliteBusyTimeout)
	db := turnsDB(t, turns)
	holder, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := write(ctx, db, 1); err == nil || ctx.Err() == nil {
		t.Fatalf("a writer whose context ended while it waited: %v; want the context's error", err)
	}
	if turns.waiting.Load() != 0 {
		t.Fatalf("%d writers still wait", turns.waiting.Load())
	}
}
