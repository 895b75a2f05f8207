package consumers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/testenv"
	"github.com/wolfix/orders/migrations"
)

func TestRouterHandlesEachEventOnce(t *testing.T) {
	b, router := startRouter(t, func(r *consumers.Router, calls *counter) {
		handle(t, r, "orders.paid", func(context.Context, events.Envelope) error { calls.add(); return nil })
	})
	publish(t, b, "orders.paid", "ev-1", "ev-1", "ev-2", "ev-1")
	waitFor(t, func() bool { return router.calls.get() == 2 })
	time.Sleep(100 * time.Millisecond)
	if got := router.calls.get(); got != 2 {
		t.Errorf("handler calls: got %d; want 2 (ev-1 and ev-2 once each)", got)
	}
}

func TestRouterRetriesThenSucceeds(t *testing.T) {
	b, router := startRouter(t, func(r *consumers.Router, calls *counter) {
		handle(t, r, "orders.paid", func(context.Context, events.Envelope) error {
			if calls.add() == 1 {
				return errors.New("first try fails")
			}
			return nil
		})
	})
	publish(t, b, "orders.paid", "ev-1")
	waitFor(t, func() bool { return router.calls.get() == 2 })
	publish(t, b, "orders.paid", "ev-1")
	time.Sleep(100 * time.Millisecond)
	if got := router.calls.get(); got != 2 {
		t.Errorf("handler calls: got %d; want 2 (a failure, then one success; the redelivery dropped)", got)
	}
}

func TestRouterPoisonsAnEventThatAlwaysFails(t *testing.T) {
	b, router := startRouter(t, func(r *consumers.Router, calls *counter) {
		handle(t, r, "orders.paid", func(context.Context, events.Envelope) error { calls.add(); return errors.New("always") })
	})
	poisoned := subscribe(t, b, consumers.DefaultPoisonTopic)
	publish(t, b, "orders.paid", "ev-bad")
	select {
	case msg := <-poisoned:
		if msg.UUID != "ev-bad" {
			t.Errorf("poisoned message: got %s; want ev-bad", msg.UUID)
		}
		msg.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the poison topic")
	}
	if got := router.calls.get(); got != 4 {
		t.Errorf("handler calls: got %d; want 4 (a try and 3 retries)", got)
	}
}

func TestNotificationsLogWithoutPersonalData(t *testing.T) {
	logs := &testenv.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	b, _ := startRouter(t, func(r *consumers.Router, _ *counter) {
		if err := r.React(app.NotificationReactions(consumers.LogNotifier{Logger: logger})...); err != nil {
			t.Fatal(err)
		}
	})
	card := `{"customerId":"cus-1","paymentMethod":"card"}`
	publishData(t, b, "orders.created", "ev-placed", card) // not confirmed until paid
	publishData(t, b, "orders.paid", "ev-paid", card)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "order_confirmed") })
	line := logs.String()
	if !strings.Contains(line, "customer_id=cus-1") || strings.Contains(line, "secret") {
		t.Errorf("log line: %q; want the customer id and no secret", line)
	}
	if strings.Contains(line, "ev-placed") || !strings.Contains(line, "ev-paid") {
		t.Errorf("log: %q; want a confirmation for the payment only, not for placing a card order", line)
	}
}

func TestInboxOncePostgresIntegration(t *testing.T) {
	db, err := sql.Open("pgx", testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	applyMigrations(t, db, migrations.Postgres())
	inbox := newInbox(t, db, sqlstore.Postgres)
	var calls atomic.Int32
	fn := func(context.Context) error { calls.Add(1); return nil }
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _ = inbox.Once(context.Background(), "test", "ev-1", fn) })
	}
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Errorf("calls: got %d; want 1", got)
	}
}

type counter struct{ n atomic.Int32 }

func (c *counter) add() int32 { return c.n.Add(1) }
func (c *counter) get() int32 { return c.n.Load() }

type running struct{ calls *counter }

// startRouter runs a router on SQLite and the in-process broker, with handlers added by setup.
func startRouter(t *testing.T, setup func(*consumers.Router, *counter)) (broker.Broker, running) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return startRouterWith(t, consumers.RouterConfig{RetryInterval: 10 * time.Millisecond}, logger, setup)
}

// startRouterWith is startRouter with the router's configuration and logger.
func startRouterWith(t *testing.T, cfg consumers.RouterConfig, logger *slog.Logger,
	setup func(*consumers.Router, *counter)) (broker.Broker, running) {
	t.Helper()
	db := openSQLite(t)
	b := gochannel.New(logger)
	t.Cleanup(func() { _ = b.Close() })
	inbox := newInbox(t, db, sqlstore.SQLite)
	r, err := consumers.NewRouter(b, b.Publisher(), inbox, logger, cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := &counter{}
	setup(r, calls)
	run(t, r)
	return b, running{calls: calls}
}

// openSQLite opens a migrated SQLite database of the test's own, as the service opens it.
func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+testenv.SQLitePath(t)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	applyMigrations(t, db, migrations.SQLite())
	return db
}

// run runs r until the test ends, and returns once it runs.
func run(t *testing.T, r *consumers.Router) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	<-r.Running()
	t.Cleanup(func() {
		if err := errors.Join(r.Close(), <-done); err != nil {
			t.Errorf("router: %v", err)
		}
	})
}

func handle(t *testing.T, r *consumers.Router, topic string, h consumers.Handler) {
	t.Helper()
	if err := r.Handle("test", topic, h); err != nil {
		t.Fatal(err)
	}
}

func publish(t *testing.T, b broker.Broker, topic string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		publishEnvelope(t, b, topic, "ord-1", id)
	}
}

func publishEnvelope(t *testing.T, b broker.Broker, topic, orderID, id string) {
	t.Helper()
	publishWith(t, b, topic, orderID, id, `{"customerId":"cus-1"}`)
}

func publishData(t *testing.T, b broker.Broker, topic, id, data string) {
	t.Helper()
	publishWith(t, b, topic, "ord-1", id, data)
}

func publishWith(t *testing.T, b broker.Broker, topic, orderID, id, data string) {
	t.Helper()
	payload, _ := json.Marshal(events.Envelope{ID: id, Type: topic, OccurredAt: time.Now(), OrderID: orderID,
		Data: json.RawMessage(data)})
	if err := b.Publisher().Publish(topic, message.NewMessage(id, payload)); err != nil {
		t.Fatal(err)
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

func subscribe(t *testing.T, b broker.Broker, topic string) <-chan *message.Message {
	t.Helper()
	sub, err := b.Subscriber("observer")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// applyMigrations runs the dialect's up migrations in name order, as `wolfix migrate` does.
func applyMigrations(t *testing.T, db *sql.DB, files fs.FS) {
	t.Helper()
	names, err := fs.Glob(files, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(body), "--bun:split") {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("migration %s: %v", name, err)
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testenv.Buffer is a log sink tests may read while handlers write.

// On SQLite a handled event's "done" mark waits for the next write; until then a redelivery still
// finds the event done, concurrent deliveries still run it once, and Flush writes the marks.
func TestInboxOnceSQLiteDefersDoneMarks(t *testing.T) {
	db := openSQLite(t)
	inbox := newInbox(t, db, sqlstore.SQLite)
	ctx := context.Background()
	var calls atomic.Int32
	fn := func(context.Context) error { calls.Add(1); return nil }
	for range 3 {
		if err := inbox.Once(ctx, "test", "ev-1", fn); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _ = inbox.Once(ctx, "test", "ev-2", fn) })
	}
	wg.Wait()
	if got := calls.Load(); got != 2 {
		t.Errorf("calls: got %d; want 2", got)
	}
	if err := inbox.Once(ctx, "test", "ev-3", func(context.Context) error { return errors.New("fails") }); err == nil {
		t.Error("a failing handler: got nil error")
	}
	if err := inbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var done, open int
	if err := db.QueryRow(`SELECT count(done_at), count(*) - count(done_at) FROM consumed_events`).Scan(&done, &open); err != nil {
		t.Fatal(err)
	}
	if done != 2 || open != 0 {
		t.Errorf("consumed_events: %d done, %d open; want 2 done (ev-1, ev-2), none open", done, open)
	}
	if err := inbox.Once(ctx, "test", "ev-3", fn); err != nil || calls.Load() != 3 {
		t.Errorf("ev-3 after its failure: err %v, calls %d; want it run", err, calls.Load())
	}
}

func TestRouterNeverPoisonsAnEventInterruptedByShutdown(t *testing.T) {
	var tries atomic.Int32
	b, _ := startRouter(t, func(r *consumers.Router, calls *counter) {
		handle(t, r, "orders.paid", func(context.Context, events.Envelope) error {
			calls.add()
			if tries.Add(1) <= 5 { // more than a try and the router's 3 retries
				return context.Canceled // cut short, as when the process stops
			}
			return nil
		})
	})
	poisoned := subscribe(t, b, consumers.DefaultPoisonTopic)
	publish(t, b, "orders.paid", "ev-interrupted")
	waitFor(t, func() bool { return tries.Load() >= 6 })
	select {
	case msg := <-poisoned:
		t.Fatalf("an interrupted event went to the poison topic: %s", msg.UUID)
	case <-time.After(200 * time.Millisecond):
	}
}

// newInbox is the consumers' inbox over the database's reaction log.
func newInbox(t *testing.T, db *sql.DB, dialect sqlstore.Dialect) *consumers.Inbox {
	t.Helper()
	log, err := sqlstore.NewReactionLog(db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	return consumers.NewInbox(log)
}
