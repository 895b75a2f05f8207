package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/sqlstore"
)

func TestParseTPS(t *testing.T) {
	out := []byte("latency average = 27.715 ms\ninitial connection time = 40.1 ms\ntps = 1154.596437 (without initial connection time)\n")
	got, err := parseTPS(out)
	if err != nil || got != 1154.596437 {
		t.Fatalf("parseTPS = %v, %v; want 1154.596437", got, err)
	}
	if _, err := parseTPS([]byte("pgbench: error: Run was aborted")); err == nil {
		t.Fatal("parseTPS accepted output without a tps line")
	}
}

func TestParsePgbenchLog(t *testing.T) {
	got, err := parsePgbenchLog([]byte("0 199 2241 0 1175850568 995598\n31 200 59167 0 1175850569 12\n"))
	if want := []time.Duration{2241 * time.Microsecond, 59167 * time.Microsecond}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("parsePgbenchLog = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"0 199 skipped 0 1175850568 995598\n", "pgbench: error\n"} {
		if _, err := parsePgbenchLog([]byte(bad)); err == nil {
			t.Errorf("parsePgbenchLog accepted %q", bad)
		}
	}
}

func TestMedianIsTakenPerFigure(t *testing.T) {
	rounds := []round{{floor: floorFigures{tps: 300}}, {floor: floorFigures{tps: 100}}, {floor: floorFigures{tps: 200}}, {floor: floorFigures{tps: 400}}}
	if got := median(rounds, func(r round) float64 { return r.floor.tps }); got != 200 {
		t.Fatalf("median = %v; want 200 (the lower middle of four)", got)
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	if kb := procStatusKB(os.Getpid(), "VmHWM"); kb <= 0 {
		t.Fatalf("VmHWM of this process = %d kB; want > 0", kb)
	}
	machineBefore := machineBusyTime()
	busy := 0
	for i := range 50_000_000 {
		busy += i
	}
	if cpu := procCPUTime(os.Getpid()); cpu <= 0 {
		t.Fatalf("CPU time of this process = %v after a busy loop (%d); want > 0", cpu, busy)
	}
	if machine := machineBusyTime(); machine <= machineBefore {
		t.Fatalf("the machine's busy time went from %v to %v over a busy loop; want it to grow", machineBefore, machine)
	}
}

func TestOnlyALoopbackPostgresIsLoaded(t *testing.T) {
	for url, ok := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/postgres": true,
		"postgres://postgres@localhost/postgres":      true,
		"postgres://postgres@10.1.2.3/postgres":       false,
		"postgres://db.example.com/postgres":          false,
	} {
		if err := requireLoopback(url); (err == nil) != ok {
			t.Errorf("requireLoopback(%q) = %v; want ok=%v", url, err, ok)
		}
	}
}

// The SQLite floor runs its transaction on a file migrated by the service's migrations: every
// committed transaction leaves one order with two items, a payment and an outbox row, and takes
// two units of stock.
func TestSQLiteFloorCommitsWholeOrders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bdb, dialect, err := sqlstore.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Migrate(ctx, bdb, dialect); err != nil {
		t.Fatal(err)
	}
	_ = bdb.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlstore.SQLiteFile)+"?"+sqliteDSNParams)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, floorFillSQLite); err != nil {
		t.Fatalf("fill-sqlite.sql: %v", err)
	}
	floor, err := runSQLiteFloor(ctx, db, settings{customers: 4, duration: 500 * time.Millisecond})
	if err != nil || floor.tps <= 0 || floor.latency.P50 <= 0 || floor.latency.P99 < floor.latency.P50 {
		t.Fatalf("runSQLiteFloor = %+v, %v; want a positive rate and latencies", floor, err)
	}
	var orders, items, payments, events, taken int64
	row := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM orders WHERE status = 'Pending'),
		(SELECT count(*) FROM order_items WHERE order_id NOT LIKE 'hist-%'),
		(SELECT count(*) FROM payments WHERE order_id NOT LIKE 'hist-%'),
		(SELECT count(*) FROM outbox_messages WHERE uuid NOT LIKE 'hist-event-%'),
		(SELECT sum(1000000000 - stock) FROM products)`)
	if err := row.Scan(&orders, &items, &payments, &events, &taken); err != nil {
		t.Fatal(err)
	}
	if orders != int64(floor.latency.Count) {
		t.Errorf("%d orders committed, %d latencies measured", orders, floor.latency.Count)
	}
	if orders == 0 || items != 2*orders || payments != orders || events != orders || taken != 2*orders {
		t.Fatalf("after the floor: %d orders, %d items, %d payments, %d outbox rows, %d units taken; want n, 2n, n, n, 2n",
			orders, items, payments, events, taken)
	}
}

func TestLineWatchSeesThePrefixOnceAcrossWrites(t *testing.T) {
	seen := 0
	w := &lineWatch{prefix: "loadgen: ", seen: func() { seen++ }}
	for _, chunk := range []string{"go: building\nload", "gen: cash, 32 customers\n", "loadgen: again\n"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
		if chunk == "go: building\nload" && seen != 0 {
			t.Fatal("seen before the whole prefix arrived")
		}
	}
	if seen != 1 {
		t.Errorf("seen %d times; want once", seen)
	}
}

// TestDrainEventsWaitsForAnEmptyOutbox serves a /metrics whose backlog falls by 40 a read: the
// drain reports the backlog it first read and returns only once it read zero.
func TestDrainEventsWaitsForAnEmptyOutbox(t *testing.T) {
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		left := max(0, 100-40*int(reads.Add(1)-1))
		fmt.Fprintf(w, "# TYPE wolfix_outbox_backlog gauge\nwolfix_outbox_backlog_other 7\nwolfix_outbox_backlog %d\n", left)
	}))
	defer srv.Close()
	behind, took, err := (&serveProcess{base: srv.URL}).drainEvents(t.Context())
	if err != nil || behind != 100 || reads.Load() != 4 || took <= 0 {
		t.Fatalf("drain: %v behind, %v, %d reads, err %v; want 100 behind, 4 reads (100, 60, 20, 0)", behind, took, reads.Load(), err)
	}
}
