package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/testenv"
)

// A consumer's handled events pile up in consumed_events (pruned only after days). Writing the
// "done" marks of a few events must look up just those rows, by key, also before the table has
// statistics: a freshly filled table that no ANALYZE has seen is the case where Postgres planned
// the old row-value IN list as a scan of all the consumer's rows.
func TestReactionLogMarksDoneByKeyWithoutStatistics_SQLiteAndPostgres(t *testing.T) {
	const handledBefore, newEvents = 5000, 20
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		if err := FillHandledEvents(ctx, tdb.db.DB, "notifications", handledBefore); err != nil {
			t.Fatal(err)
		}
		log, err := NewReactionLog(tdb.db.DB, tdb.dialect)
		if err != nil {
			t.Fatal(err)
		}
		var marks []doneMark
		for i := range newEvents {
			m := doneMark{consumer: "notifications", eventID: fmt.Sprintf("new-%d", i)}
			if _, err := log.Claim(ctx, m.consumer, m.eventID); err != nil {
				t.Fatal(err)
			}
			marks = append(marks, m)
		}
		if tdb.dialect == SQLite {
			assertSQLitePlanSearchesByKey(t, tdb, len(marks))
		}
		tx, err := tdb.db.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if err := log.markDone(ctx, tx, marks); err != nil {
			t.Fatalf("mark done: %v", err)
		}
		if tdb.dialect == Postgres {
			assertPostgresReadOnlyTheMarkedRows(t, tx, len(marks))
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM consumed_events WHERE done_at IS NOT NULL AND event_id LIKE 'new-%'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done != len(marks) {
			t.Errorf("events marked done: got %d; want %d", done, len(marks))
		}
	})
}

// assertPostgresReadOnlyTheMarkedRows fails unless the transaction so far read consumed_events by
// index only, one row per marked event (pg_stat_xact_user_tables counts this
// transaction's reads).
func assertPostgresReadOnlyTheMarkedRows(t *testing.T, tx *sql.Tx, marks int) {
	t.Helper()
	seqRead, idxRead := testenv.PostgresTableReads(t, tx, "consumed_events")
	if seqRead != 0 || idxRead > int64(marks) {
		t.Errorf("marking %d events done read %d rows by scan and fetched %d by index; want 0 and at most %d", marks, seqRead, idxRead, marks)
	}
}

// assertSQLitePlanSearchesByKey fails if SQLite's plan for marking that many events done scans
// consumed_events.
func assertSQLitePlanSearchesByKey(t *testing.T, tdb *testDB, marks int) {
	t.Helper()
	args := []any{int64(3)}
	for i := range marks {
		args = append(args, "notifications", fmt.Sprintf("new-%d", i))
	}
	rows, err := tdb.db.DB.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+markDoneQuery(marks), args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(steps, "\n")
	if strings.Contains(plan, "SCAN consumed_events") || !strings.Contains(plan, "SEARCH consumed_events") {
		t.Errorf("SQLite's plan does not look the events up by key:\n%s", plan)
	}
}

// FillHandledEvents adds n events that consumer handled long ago ("old-1" …) to consumed_events,
// in one statement, so that no ANALYZE has seen them; the benchmarks use it too.
func FillHandledEvents(ctx context.Context, db *sql.DB, consumer string, n int) error {
	_, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < `+strconv.Itoa(n)+`)
		INSERT INTO consumed_events (consumer, event_id, claimed_at, done_at) SELECT '`+consumer+`', 'old-' || i, 1, 2 FROM n`)
	if err != nil {
		return fmt.Errorf("fill consumed_events: %w", err)
	}
	return nil
}
