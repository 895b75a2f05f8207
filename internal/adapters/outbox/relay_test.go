package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

func TestRelaySQLiteToGoChannel(t *testing.T) { relaySuite(t, sqliteGoChannel, false) }

func TestRelayPostgresToNATSIntegration(t *testing.T) { relaySuite(t, postgresWith(openNATS), true) }

func TestRelayPostgresToRabbitMQIntegration(t *testing.T) {
	relaySuite(t, postgresWith(openRabbitMQ), true)
}

// relaySuite runs every relay test on one backend; concurrentRelays adds the test of several
// relays on one database, which only PostgreSQL is meant to serve.
func relaySuite(t *testing.T, be backend, concurrentRelays bool) {
	t.Run("every committed event arrives once per id in per-order order", func(t *testing.T) { testDeliversAll(t, be) })
	t.Run("a transaction's events of several topics are rows of their own, relayed in order", func(t *testing.T) {
		testOneTransactionManyTopics(t, be)
	})
	t.Run("a rolled-back transaction publishes nothing", func(t *testing.T) { testRollback(t, be) })
	t.Run("a relay stopped mid-stream and started again loses nothing", func(t *testing.T) { testRestart(t, be) })
	t.Run("events wait out a broker outage", func(t *testing.T) { testBrokerOutage(t, be) })
	if concurrentRelays {
		t.Run("two relays at once deliver each event once", func(t *testing.T) { testTwoRelays(t, be) })
	}
}

const arrivalTimeout = 60 * time.Second

func testDeliversAll(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	pub := newProbe(b.Publisher())
	runRelay(t, db, be.dialect, pub, outbox.RelayConfig{PollInterval: 20 * time.Millisecond})

	orders := orderEvents("all", 40, 3)
	commitEach(t, db, open, orders)

	watch.waitAll(t, ids(orders), arrivalTimeout)
	if dups := pub.republished(); len(dups) > 0 {
		t.Errorf("published more than once without a restart: %v", dups)
	}
}

// testOneTransactionManyTopics writes each order's events (created, paid, failed) in one
// transaction, which the outbox inserts in one statement: each is still a row and a message of its
// own topic, in the order written.
func testOneTransactionManyTopics(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	runRelay(t, db, be.dialect, b.Publisher(), outbox.RelayConfig{PollInterval: 20 * time.Millisecond})

	orders := orderEvents("together", 20, 3)
	for _, events := range orders {
		if err := inTx(context.Background(), db, open, true, events...); err != nil {
			t.Fatalf("commit %d events in one transaction: %v", len(events), err)
		}
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM outbox_messages`).Scan(&rows); err != nil || rows != 60 {
		t.Fatalf("outbox rows: %d, %v; want 60 (one per event)", rows, err)
	}
	watch.waitAll(t, ids(orders), arrivalTimeout)
}

func testRollback(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	runRelay(t, db, be.dialect, b.Publisher(), outbox.RelayConfig{PollInterval: 20 * time.Millisecond})

	rolledBack := orderEvents("rolledback", 1, 2)[0]
	if err := inTx(context.Background(), db, open, false, rolledBack...); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	marker := orderEvents("marker", 1, 1)
	commitEach(t, db, open, marker)

	watch.waitAll(t, ids(marker), arrivalTimeout)
	for _, ev := range rolledBack {
		if watch.has(ev.ID) {
			t.Errorf("event %s of a rolled-back transaction was published", ev.ID)
		}
	}
}

func testRestart(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	orders := orderEvents("restart", 100, 10)
	commitEach(t, db, open, orders)
	all := ids(orders)

	cfg := outbox.RelayConfig{BatchSize: 50, PollInterval: 20 * time.Millisecond}
	_, stop := runRelay(t, db, be.dialect, b.Publisher(), cfg)
	waitUntil(t, func() bool { return watch.count() >= len(all)/3 })
	stop()
	stoppedAt := watch.count()
	if stoppedAt == len(all) {
		t.Fatalf("the relay finished before it was stopped; the test needs more events")
	}
	runRelay(t, db, be.dialect, b.Publisher(), cfg)

	watch.waitAll(t, all, arrivalTimeout)
	t.Logf("stopped after %d of %d events; %d deliveries in all", stoppedAt, len(all), watch.deliveries)
}

func testBrokerOutage(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	pub := newProbe(b.Publisher())
	pub.failFor(4 * time.Second)
	relay, _ := runRelay(t, db, be.dialect, pub, outbox.RelayConfig{PollInterval: 20 * time.Millisecond, RetryInterval: 200 * time.Millisecond})

	orders := orderEvents("outage", 20, 3)
	commitEach(t, db, open, orders[:1])
	waitUntil(t, func() bool { return errors.Is(relay.Health(context.Background()), outbox.ErrRelayStuck) })
	if n := watch.count(); n != 0 {
		t.Errorf("%d events arrived while the broker was down", n)
	}
	commitEach(t, db, open, orders[1:]) // writers carry on during the outage

	watch.waitAll(t, ids(orders), arrivalTimeout)
	waitUntil(t, func() bool { return relay.Health(context.Background()) == nil })
}

func testTwoRelays(t *testing.T, be backend) {
	db := be.openDB(t)
	b, topics := be.openBroker(t)
	watch := observe(t, b, topics)
	open := opener(t, be.dialect)
	pub := newProbe(b.Publisher())
	cfg := outbox.RelayConfig{BatchSize: 20, PollInterval: 10 * time.Millisecond}
	runRelay(t, db, be.dialect, pub, cfg)
	runRelay(t, db, be.dialect, pub, cfg)

	orders := orderEvents("two", 60, 5)
	commitEach(t, db, open, orders)

	watch.waitAll(t, ids(orders), arrivalTimeout)
	if dups := pub.republished(); len(dups) > 0 {
		t.Errorf("two relays published %d events more than once: %v", len(dups), dups)
	}
}

func opener(t *testing.T, dialect string) outbox.Opener {
	t.Helper()
	open, err := outbox.NewOpener(dialect, testLogger())
	if err != nil {
		t.Fatalf("opener: %v", err)
	}
	return open
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(arrivalTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", arrivalTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
