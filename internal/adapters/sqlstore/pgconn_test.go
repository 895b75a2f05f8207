package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wolfix/orders/internal/testenv"
)

// A lazily begun transaction (oneTripConn) must be a transaction from its first statement on,
// whatever that statement is, and end like one begun at once.
func TestLazyBeginIsATransactionFromTheFirstStatement_Postgres(t *testing.T) {
	ctx := context.Background()
	pool := oneTripPool(t, "CREATE TABLE lazy (id INTEGER PRIMARY KEY)")
	rows := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM lazy").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	firsts := map[string]func(tx *sql.Tx, id int) error{
		"an exec without arguments (BEGIN travels with it)": func(tx *sql.Tx, id int) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO lazy VALUES ("+strconv.Itoa(id)+")")
			return err
		},
		"an exec with arguments": func(tx *sql.Tx, id int) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO lazy VALUES ($1)", id)
			return err
		},
		"a query": func(tx *sql.Tx, id int) error {
			var got int
			return tx.QueryRowContext(ctx, "INSERT INTO lazy VALUES ("+strconv.Itoa(id)+") RETURNING id").Scan(&got)
		},
		"a query with arguments (BEGIN goes in one batch with it)": func(tx *sql.Tx, id int) error {
			var got int
			if err := tx.QueryRowContext(ctx, "INSERT INTO lazy VALUES ($1) RETURNING id", id).Scan(&got); err != nil {
				return err
			}
			if got != id {
				return fmt.Errorf("the insert returned %d; want %d", got, id)
			}
			return nil
		},
	}
	id := 0
	for name, first := range firsts {
		t.Run(name+": others see nothing before the commit, everything after", func(t *testing.T) {
			before := rows()
			tx, err := pool.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			id++
			if err := first(tx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO lazy VALUES ("+strconv.Itoa(id+1000)+")"); err != nil {
				t.Fatal(err)
			}
			if n := rows(); n != before {
				t.Errorf("another connection sees %d rows before the commit; want %d", n, before)
			}
			if err := tx.Commit(); err != nil || rows() != before+2 {
				t.Errorf("commit: %v, %d rows; want %d", err, rows(), before+2)
			}
		})
		t.Run(name+": a failed first statement aborts the transaction, whose commit rolls back", func(t *testing.T) {
			before := rows()
			tx, err := pool.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := first(tx, id); err == nil { // the id the subtest before stored
				t.Fatal("a duplicate key went in")
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO lazy VALUES (-"+strconv.Itoa(id)+")"); err == nil {
				t.Error("a statement after the failed one ran: the first one was outside the transaction")
			}
			if err := tx.Commit(); !errors.Is(err, pgx.ErrTxCommitRollback) {
				t.Errorf("commit of the failed transaction: %v; want %v", err, pgx.ErrTxCommitRollback)
			}
			if n := rows(); n != before {
				t.Errorf("%d rows after the failed transaction; want %d", n, before)
			}
		})
	}
	t.Run("a transaction that runs nothing commits and rolls back, and leaves the connection idle", func(t *testing.T) {
		conn, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, end := range []func(*sql.Tx) error{(*sql.Tx).Commit, (*sql.Tx).Rollback} {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := end(tx); err != nil {
				t.Errorf("ending an empty transaction: %v", err)
			}
			var inTx bool
			if err := conn.QueryRowContext(ctx, "SELECT now() <> statement_timestamp()").Scan(&inTx); err != nil || inTx {
				t.Errorf("after the empty transaction the connection is in one: %v, %v", inTx, err)
			}
		}
	})
	t.Run("a rollback undoes what the transaction ran", func(t *testing.T) {
		before := rows()
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO lazy VALUES (99999)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil || rows() != before {
			t.Errorf("rollback: %v, %d rows; want %d", err, rows(), before)
		}
	})
}

// A transaction begun lazily with an isolation level or read-only has them from its first
// statement, which its BEGIN travels with: a REPEATABLE READ one reads one snapshot, taken at that
// statement, to its end.
func TestLazyBeginKeepsTheIsolationLevel_Postgres(t *testing.T) {
	ctx := context.Background()
	pool := oneTripPool(t, "CREATE TABLE iso (id INTEGER PRIMARY KEY)")
	settings := func(tx *sql.Tx) (level, readOnly string) {
		t.Helper()
		if err := tx.QueryRowContext(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only') WHERE $1",
			true).Scan(&level, &readOnly); err != nil {
			t.Fatal(err)
		}
		return level, readOnly
	}
	for _, tt := range []struct {
		opts            sql.TxOptions
		level, readOnly string
	}{
		{sql.TxOptions{}, "read committed", "off"},
		{sql.TxOptions{Isolation: sql.LevelRepeatableRead}, "repeatable read", "off"},
		{sql.TxOptions{Isolation: sql.LevelSerializable, ReadOnly: true}, "serializable", "on"},
		{sql.TxOptions{ReadOnly: true}, "read committed", "on"},
	} {
		tx, err := pool.BeginTx(ctx, &tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if level, readOnly := settings(tx); level != tt.level || readOnly != tt.readOnly {
			t.Errorf("%+v: the transaction runs at %s, read only %s; want %s, %s", tt.opts, level, readOnly, tt.level, tt.readOnly)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO iso VALUES (1) ON CONFLICT DO NOTHING")
		if (err != nil) != tt.opts.ReadOnly {
			t.Errorf("%+v: a write: %v", tt.opts, err)
		}
		_ = tx.Rollback()
	}

	t.Run("repeatable read keeps the snapshot of its first statement", func(t *testing.T) {
		tx, err := pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		count := func() (n int) {
			t.Helper()
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM iso WHERE id > $1", 0).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		if _, err := pool.ExecContext(ctx, "INSERT INTO iso VALUES (2)"); err != nil {
			t.Fatal(err)
		}
		if after := count(); after != before {
			t.Errorf("the transaction saw %d rows, then %d after another's commit; want one snapshot", before, after)
		}
	})
}

// An Exec made with execAtCommit inside a lazily begun transaction is held and sent with the
// COMMIT: its failure does not fail the Exec but the commit, which rolls the whole transaction
// back and leaves the pool usable; a statement the transaction runs after it sends it first, so
// the transaction reads its own writes (and that statement fails if the held one does).
func TestExecAtCommitTravelsWithTheCommit_Postgres(t *testing.T) {
	ctx := context.Background()
	pool := oneTripPool(t, "CREATE TABLE held (id INTEGER PRIMARY KEY)")
	pool.SetMaxOpenConns(1) // every step below reuses the one connection
	count := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		t.Helper()
		var n int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM held").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(tx *sql.Tx, at context.Context, id int) {
		t.Helper()
		if _, err := tx.ExecContext(at, "INSERT INTO held VALUES ($1)", id); err != nil {
			t.Fatal(err)
		}
	}
	// begin opens a transaction that inserts sent at once, then held for the commit.
	begin := func(sent, held int) *sql.Tx {
		t.Helper()
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		insert(tx, ctx, sent)
		insert(tx, execAtCommit(ctx), held)
		return tx
	}

	// rollBack rolls tx back, after which the table must hold want rows.
	rollBack := func(tx *sql.Tx, want int) {
		t.Helper()
		if err := tx.Rollback(); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if n := count(pool); n != want {
			t.Fatalf("%d rows after the rollback; want %d", n, want)
		}
	}

	t.Run("held until the commit, then committed with the rest", func(t *testing.T) {
		tx := begin(1, 2)
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if n := count(pool); n != 2 {
			t.Fatalf("%d rows after the commit; want 2", n)
		}
	})
	t.Run("a later statement of the transaction sends what was held first, and sees it", func(t *testing.T) {
		tx := begin(10, 11)
		if n := count(tx); n != 4 {
			t.Fatalf("the transaction sees %d rows after its held insert; want 4", n)
		}
		insert(tx, execAtCommit(ctx), 1) // a duplicate key: held, so the Exec itself succeeds
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM held").Scan(&n); err == nil {
			t.Fatalf("the statement after a failing held insert succeeded (%d rows)", n)
		}
		rollBack(tx, 2)
	})
	t.Run("an exec with arguments goes in one batch with what was held, and fails with it", func(t *testing.T) {
		tx := begin(20, 21)
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM held").Scan(&n); err != nil || n != 4 {
			t.Fatalf("the transaction sees %d rows (%v); want 4", n, err)
		}
		insert(tx, execAtCommit(ctx), 1) // a duplicate key, held
		if _, err := tx.ExecContext(ctx, "INSERT INTO held VALUES ($1)", 22); err == nil {
			t.Fatal("the exec sent with a failing held insert succeeded")
		}
		rollBack(tx, 2)
	})
	t.Run("a query with arguments goes in one batch with what was held, reads it, and fails with it", func(t *testing.T) {
		tx := begin(30, 31)
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM held WHERE id >= $1", 30).Scan(&n); err != nil || n != 2 {
			t.Fatalf("the query sees %d of the transaction's rows (%v); want 2", n, err)
		}
		insert(tx, execAtCommit(ctx), 1) // a duplicate key, held
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM held WHERE id >= $1", 30).Scan(&n); err == nil {
			t.Fatalf("the query sent with a failing held insert succeeded (%d rows)", n)
		}
		rollBack(tx, 2)
	})
	t.Run("a held insert that fails fails the commit and undoes the transaction", func(t *testing.T) {
		tx := begin(3, 1) // a duplicate key
		if err := tx.Commit(); err == nil {
			t.Fatal("the commit succeeded with a failing held insert")
		}
		if n := count(pool); n != 2 {
			t.Fatalf("%d rows after the failed commit; want 2: nothing of the transaction", n)
		}
	})
	t.Run("a rollback drops what was held", func(t *testing.T) {
		tx := begin(4, 5)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		insert(tx, ctx, 6)
		if err := tx.Commit(); err != nil || count(pool) != 3 {
			t.Fatalf("next commit: %v, %d rows; want 3: the dropped insert came back", err, count(pool))
		}
	})
	t.Run("outside a transaction it runs at once", func(t *testing.T) {
		if _, err := pool.ExecContext(execAtCommit(ctx), "INSERT INTO held VALUES ($1)", 7); err != nil || count(pool) != 4 {
			t.Fatalf("exec: %v, %d rows; want 4", err, count(pool))
		}
	})
}

// A transaction whose context ends while it is open (a client that hangs up mid-checkout) must
// end on the server too, whoever ends it: the code that rolls back after the failure, or
// database/sql on its own. A transaction left open would hold its row locks, and the snapshot
// horizon the outbox relay reads up to, until its connection happened to be reused: the relay
// then stalls on every event committed after it.
func TestCancelledTransactionEndsOnTheServer_Postgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	observer, err := sql.Open("pgx", url) // never takes a connection of the pools under test
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = observer.Close() })
	if _, err := observer.Exec("CREATE TABLE cancelled (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	rollback, commit := func(tx *sql.Tx) { _ = tx.Rollback() }, func(tx *sql.Tx) { _ = tx.Commit() }
	cases := map[string]struct {
		hold bool // an Exec held for the COMMIT too
		end  func(tx *sql.Tx)
	}{
		"rolled back by the caller":               {false, rollback},
		"rolled back by the caller, an Exec held": {true, rollback},
		"committed by the caller":                 {false, commit},
		"committed by the caller, an Exec held":   {true, commit},
		"left to database/sql":                    {true, func(*sql.Tx) {}},
	}
	id := 0
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pool, err := openPostgresPool(url) // a pool of its own: no other case reuses its connection
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pool.Close() })
			ctx, cancel := context.WithCancel(context.Background())
			tx, err := pool.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			id++
			if _, err := tx.ExecContext(ctx, "INSERT INTO cancelled VALUES ("+strconv.Itoa(id)+")"); err != nil {
				t.Fatal(err) // BEGIN travelled with it: the transaction is open on the server
			}
			if c.hold {
				if _, err := tx.ExecContext(execAtCommit(ctx), "INSERT INTO cancelled VALUES ($1)", -id); err != nil {
					t.Fatal(err)
				}
			}
			cancel()
			c.end(tx)
			waitNoneIdleInTransaction(t, observer)
		})
	}
	var n int
	if err := observer.QueryRow("SELECT count(*) FROM cancelled").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the cancelled transactions: %d rows, %v; want none", n, err)
	}
}

// waitNoneIdleInTransaction fails unless, within a second, no session of the database is idle
// inside a transaction.
func waitNoneIdleInTransaction(t *testing.T, observer *sql.DB) {
	t.Helper()
	var open int
	for range 50 {
		if err := observer.QueryRow(testenv.PostgresIdleInTransaction).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d sessions are still idle inside a transaction a second after its context ended", open)
}

// oneTripPool opens a pool of oneTripConns on a fresh test database, closed when the test ends,
// and runs statements on it first.
func oneTripPool(t *testing.T, statements ...string) *sql.DB {
	t.Helper()
	pool, err := openPostgresPool(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	for _, statement := range statements {
		if _, err := pool.ExecContext(context.Background(), statement); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}
