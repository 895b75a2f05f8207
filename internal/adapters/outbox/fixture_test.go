package outbox_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/amqptest"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
	"github.com/wolfix/orders/internal/adapters/broker/natstest"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/testenv"
	"github.com/wolfix/orders/migrations"
)

// backend is one database + broker pair the relay is tested on.
type backend struct {
	dialect string
	openDB  func(t testing.TB) *sql.DB
	// openBroker returns a broker private to the test, and the topics an observer subscribes to
	// in order to see every event in relay order.
	openBroker func(t testing.TB) (broker.Broker, []string)
}

var sqliteGoChannel = backend{dialect: outbox.DialectSQLite, openDB: openSQLite, openBroker: openGoChannel}

func postgresWith(openBroker func(t testing.TB) (broker.Broker, []string)) backend {
	return backend{dialect: outbox.DialectPostgres, openDB: openPostgres, openBroker: openBroker}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	dsn := "file:" + testenv.SQLitePath(t) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	// As few connections as the service's pool (sqlstore opens 8): a test's hundred concurrent
	// writers then queue in database/sql instead of in SQLite's busy handler, which is not fair,
	// and under -race on a loaded machine kept one waiting past busy_timeout (SQLITE_BUSY).
	db.SetMaxOpenConns(8)
	t.Cleanup(func() { _ = db.Close() })
	applyOutboxMigration(t, db, migrations.SQLite())
	return db
}

func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", testenv.PostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	db.SetMaxOpenConns(8) // the machine's Postgres is shared; 100 is its limit
	t.Cleanup(func() { _ = db.Close() })
	applyOutboxMigration(t, db, migrations.Postgres())
	return db
}

// applyOutboxMigration runs this package's migrations the way bun/migrate does (statements split
// at --bun:split), without the core schema the outbox does not need.
func applyOutboxMigration(t testing.TB, db *sql.DB, files fs.FS) {
	t.Helper()
	for _, name := range []string{"20261124000200_outbox.tx.up.sql", "20261202000200_outbox_backlog.tx.up.sql"} {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatalf("read outbox migration: %v", err)
		}
		for _, stmt := range strings.Split(string(body), "--bun:split") {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("outbox migration %s: %v", name, err)
			}
		}
	}
}

func openGoChannel(t testing.TB) (broker.Broker, []string) {
	return brokertest.Opened(t, gochannel.New(brokertest.Logger()), nil), []string{topicCreated, topicPaid, topicFailed}
}

func openNATS(t testing.TB) (broker.Broker, []string) {
	return natstest.Open(t, "outboxtest"), []string{"orders.>"}
}

func openRabbitMQ(t testing.TB) (broker.Broker, []string) {
	return amqptest.Open(t, "outboxtest"), []string{"orders.#"}
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Topics of the test events.
const (
	topicCreated = "orders.created"
	topicPaid    = "orders.paid"
	topicFailed  = "orders.payment_failed"
)

// orderEvents returns the events of `orders` orders, `perOrder` each, as each order's transactions
// would write them: created, then paid or failed, with a sequence number in the data.
func orderEvents(prefix string, orders, perOrder int) [][]app.Event {
	topics := []string{topicCreated, topicPaid, topicFailed}
	all := make([][]app.Event, orders)
	for o := range all {
		orderID := fmt.Sprintf("%s-order-%d", prefix, o)
		for seq := range perOrder {
			all[o] = append(all[o], app.Event{
				ID: fmt.Sprintf("%s-%d-%d", prefix, o, seq), Type: topics[min(seq, len(topics)-1)],
				OccurredAt: time.Now(), OrderID: orderID, Data: map[string]int{"seq": seq},
			})
		}
	}
	return all
}

// commitEach writes every order's events, one transaction per event, orders in parallel.
func commitEach(t testing.TB, db *sql.DB, open outbox.Opener, orders [][]app.Event) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(orders))
	for _, events := range orders {
		wg.Go(func() {
			for _, ev := range events {
				if err := inTx(context.Background(), db, open, true, ev); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("commit events: %v", err)
	}
}

// inTx writes events in one transaction, committed or rolled back.
func inTx(ctx context.Context, db *sql.DB, open outbox.Opener, commit bool, events ...app.Event) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	ob, err := open(ctx, tx)
	if err == nil {
		err = ob.Publish(ctx, events...)
	}
	if err != nil || !commit {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func ids(orders [][]app.Event) []string {
	var all []string
	for _, events := range orders {
		for _, ev := range events {
			all = append(all, ev.ID)
		}
	}
	return all
}

// observer is a consumer on the broker recording what arrives.
type observer struct {
	mu         sync.Mutex
	seen       map[string]bool
	firstSeqs  map[string][]int // order id → seq of each event, in first-arrival order
	deliveries int
}

// observe subscribes a fresh consumer group to topics before anything is relayed.
func observe(t testing.TB, b broker.Broker, topics []string) *observer {
	t.Helper()
	group := "observer-" + randomHex()
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatalf("subscriber: %v", err)
	}
	o := &observer{seen: map[string]bool{}, firstSeqs: map[string][]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, topic := range topics {
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatalf("subscribe %s: %v", topic, err)
		}
		go o.consume(t, msgs)
	}
	return o
}

func (o *observer) consume(t testing.TB, msgs <-chan *message.Message) {
	for msg := range msgs {
		env, err := events.Decode(msg.Payload)
		if err != nil || env.ID != msg.UUID {
			t.Errorf("message %s: envelope %+v, %v", msg.UUID, env, err)
		}
		var data struct{ Seq int }
		if err := json.Unmarshal(env.Data, &data); err != nil {
			t.Errorf("message %s: data: %v", msg.UUID, err)
		}
		o.record(env, data.Seq)
		msg.Ack()
	}
}

func (o *observer) record(env events.Envelope, seq int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deliveries++
	if o.seen[env.ID] {
		return
	}
	o.seen[env.ID] = true
	o.firstSeqs[env.OrderID] = append(o.firstSeqs[env.OrderID], seq)
}

func (o *observer) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

func (o *observer) has(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[id]
}

// waitAll waits until every id has arrived, then checks per-order order.
func (o *observer) waitAll(t testing.TB, want []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !o.hasAll(want) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d of %d events arrived", timeout, o.count(), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) != len(want) {
		t.Errorf("distinct events: got %d; want %d", len(o.seen), len(want))
	}
	for order, seqs := range o.firstSeqs {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Errorf("order %s: events arrived in order %v; want increasing", order, seqs)
				break
			}
		}
	}
}

func (o *observer) hasAll(want []string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range want {
		if !o.seen[id] {
			return false
		}
	}
	return true
}

// probe sits between the relay and the broker: it counts publications per message and can
// refuse them for a while, as a broker that is down.
type probe struct {
	next message.Publisher

	mu        sync.Mutex
	published map[string]int
	failUntil time.Time
}

func newProbe(next message.Publisher) *probe {
	return &probe{next: next, published: map[string]int{}}
}

var errBrokerDown = errors.New("probe: broker down")

func (p *probe) Publish(topic string, msgs ...*message.Message) error {
	p.mu.Lock()
	down := time.Now().Before(p.failUntil)
	p.mu.Unlock()
	if down {
		return errBrokerDown
	}
	if err := p.next.Publish(topic, msgs...); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, msg := range msgs {
		p.published[msg.UUID]++
	}
	return nil
}

func (p *probe) Close() error { return nil }

func (p *probe) failFor(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failUntil = time.Now().Add(d)
}

// republished lists the messages published more than once.
func (p *probe) republished() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	dups := map[string]int{}
	for id, n := range p.published {
		if n > 1 {
			dups[id] = n
		}
	}
	return dups
}

// runRelay starts a relay and returns the function that stops it and checks how Run ended.
func runRelay(t testing.TB, db *sql.DB, dialect string, pub message.Publisher, cfg outbox.RelayConfig) (*outbox.Relay, func()) {
	t.Helper()
	return runRelayWith(t, db, dialect, pub, cfg, testLogger())
}

// runRelayWith is runRelay with the relay's logger.
func runRelayWith(t testing.TB, db *sql.DB, dialect string, pub message.Publisher, cfg outbox.RelayConfig,
	logger *slog.Logger) (*outbox.Relay, func()) {
	t.Helper()
	relay, err := outbox.NewRelay(db, dialect, pub, logger, cfg)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- relay.Run(context.Background()) }()
	select {
	case <-relay.Running():
	case err := <-done:
		t.Fatalf("relay stopped at once: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := relay.Close(); err != nil {
				t.Errorf("close relay: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("relay run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return relay, stop
}
