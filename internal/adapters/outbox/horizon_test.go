package outbox_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

const oldestOpenTransactionSeries = "wolfix_outbox_oldest_open_transaction_seconds"

// On Postgres the relay reads only events of transactions older than the oldest one still open in
// the cluster. A transaction left open therefore stalls the relay while the broker is well: the
// relay must say so, in its gauge and in the stuck report /readyz shows, and catch up once the
// transaction ends.
func TestRelayHeldBackByAnOpenTransactionSaysSo_Postgres(t *testing.T) {
	ctx := t.Context()
	db := openPostgres(t)
	b, topics := openGoChannel(t)
	watch := observe(t, b, topics)
	relay, _ := runRelay(t, db, outbox.DialectPostgres, b.Publisher(),
		outbox.RelayConfig{PollInterval: 10 * time.Millisecond, StuckAfter: 300 * time.Millisecond})

	held, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Rollback() }()
	if _, err := held.ExecContext(ctx, "SELECT txid_current()"); err != nil { // a transaction id, as any write takes
		t.Fatal(err)
	}
	heldSince := time.Now()

	orders := orderEvents("held", 5, 2)
	commitEach(t, db, opener(t, outbox.DialectPostgres), orders)
	waitUntil(t, func() bool { return errors.Is(relay.Health(ctx), outbox.ErrRelayStuck) })
	time.Sleep(400 * time.Millisecond) // past StuckAfter for the transaction too
	if n := watch.count(); n != 0 {
		t.Fatalf("%d events relayed past a transaction that is still open", n)
	}
	err = relay.Health(ctx)
	if !strings.Contains(fmt.Sprint(err), "a transaction open for") {
		t.Errorf("stuck report: %v; want it to name the open transaction", err)
	}
	age, err := relay.OldestOpenWriter(ctx)
	if err != nil || age < time.Since(heldSince)-50*time.Millisecond {
		t.Errorf("oldest open writer: %s, %v; want at least the %s the test's transaction is open",
			age, err, time.Since(heldSince).Round(time.Millisecond))
	}
	if got, ok := scrape(t, relay, oldestOpenTransactionSeries); !ok || got < 0.6 {
		t.Errorf("%s = %.3f (exported: %t); want at least 0.6 (seconds the transaction is open)",
			oldestOpenTransactionSeries, got, ok)
	}

	if err := held.Rollback(); err != nil {
		t.Fatal(err)
	}
	watch.waitAll(t, ids(orders), arrivalTimeout)
	waitUntil(t, func() bool { return relay.Health(ctx) == nil })
}

// On SQLite one writer runs at a time and nothing holds the relay's reads back: no gauge.
func TestRelayOnSQLiteHasNoOpenTransactionGauge(t *testing.T) {
	relay, _ := runRelay(t, openSQLite(t), outbox.DialectSQLite, newProbe(nil), outbox.RelayConfig{})
	if _, ok := scrape(t, relay, oldestOpenTransactionSeries); ok {
		t.Errorf("%s is exported on SQLite", oldestOpenTransactionSeries)
	}
	if age, err := relay.OldestOpenWriter(t.Context()); err != nil || age != 0 {
		t.Errorf("oldest open writer on SQLite: %s, %v; want 0", age, err)
	}
}

// scrape reads one of the relay's gauges as a Prometheus scrape would; false when the relay does
// not export it.
func scrape(t *testing.T, relay *outbox.Relay, name string) (float64, bool) {
	t.Helper()
	registry := prometheus.NewRegistry()
	registry.MustRegister(relay.Collectors()...)
	families, err := registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}
