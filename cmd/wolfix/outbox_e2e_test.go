package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wolfix/orders/internal/adapters/broker/amqp"
	brokernats "github.com/wolfix/orders/internal/adapters/broker/nats"
	brokerredis "github.com/wolfix/orders/internal/adapters/broker/redis"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/testenv"
)

// The outbox end-to-end tests run the real binary on PostgreSQL with a real broker and watch the
// broker with a subscriber of their own: they check that the events of the orders they create
// arrive, each with its own id, in per-order order, across a relay killed with SIGKILL and a
// broker that goes away for 30 s. The binary's broker names are the defaults (stream
// WOLFIX_EVENTS, subjects wolfix.<topic>, exchange wolfix.events, Redis streams wolfix:<topic>),
// shared by every run on the machine, so each test keeps only the events of its own orders.

// Default broker names of `wolfix serve`.
const (
	outboxE2EStream   = brokernats.DefaultStream
	outboxE2ESubjects = brokernats.DefaultSubjectPrefix + ".orders.>"
	outboxE2EExchange = amqp.DefaultExchange
)

// orderTopics are the topics a tap reads where it cannot subscribe by wildcard (Redis).
var orderTopics = []string{events.TopicOrderCreated, events.TopicOrderPaid, events.TopicOrderPaymentFailed, events.TopicOrderCancelled,
	events.TopicOrderRefunded, events.TopicOrderDisputed, events.TopicOrderShipped, events.TopicOrderDelivered}

// brokerEnv is the configuration of the binary for one broker.
type brokerEnv struct {
	name string
	env  func(t *testing.T) []string
	// tap subscribes the test to every orders.* event of the broker, from now on.
	tap func(t *testing.T, tp *eventTap)
	// perTopic: the broker keeps the order of each topic's events, not of one order's events
	// across topics (Redis: a stream per topic), so the tap compares them topic by topic.
	perTopic bool
}

var outboxBrokers = []brokerEnv{
	{name: "nats", env: func(t *testing.T) []string {
		return []string{"WOLFIX_BROKER_KIND=nats", "WOLFIX_NATS_URL=" + testenv.NATSURL(t)}
	}, tap: func(t *testing.T, tp *eventTap) { tapNATS(t, testenv.NATSURL(t), tp, nats.DeliverNew()) }},
	{name: "amqp", env: func(t *testing.T) []string {
		return []string{"WOLFIX_BROKER_KIND=amqp", "WOLFIX_AMQP_URL=" + testenv.AMQPURL(t)}
	}, tap: func(t *testing.T, tp *eventTap) { tapAMQP(t, testenv.AMQPURL(t), tp) }},
	{name: "redis", env: func(t *testing.T) []string {
		return []string{"WOLFIX_BROKER_KIND=redis", "WOLFIX_REDIS_URL=" + testenv.RedisURL(t)}
	}, tap: func(t *testing.T, tp *eventTap) { tapRedis(t, testenv.RedisURL(t), tp) }, perTopic: true},
}

// TestOutboxE2EOrdersReachBroker creates orders over HTTP, pays some and fails others with the
// sandbox cards, and expects exactly their events on the broker, in each order's order.
func TestOutboxE2EOrdersReachBroker(t *testing.T) {
	for _, b := range outboxBrokers {
		t.Run(b.name, func(t *testing.T) {
			s := startService(t, append(append(b.env(t), volumeEnv...), "WOLFIX_DATABASE_URL="+testenv.PostgresURL(t))...)
			tp := newEventTap(nil)
			tp.perTopic = b.perTopic
			b.tap(t, tp)
			cust := s.token("cust-outbox", "customer")
			const orders = 12
			want := map[string][]string{}
			for i := range orders {
				id, secret := s.createCardOrder(cust)
				tp.allow(id)
				switch i % 3 {
				case 0:
					s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
					want[id] = []string{events.TopicOrderCreated, events.TopicOrderPaid}
				case 1:
					s.expect(s.confirmCard(secret, cardDeclined), http.StatusOK, "")
					want[id] = []string{events.TopicOrderCreated, events.TopicOrderPaymentFailed}
				default:
					want[id] = []string{events.TopicOrderCreated}
				}
			}
			tp.waitTypes(t, want, 60*time.Second)
			events, deliveries := tp.counts()
			t.Logf("%s: %d orders → %d events on the broker, %d deliveries", b.name, orders, events, deliveries)
		})
	}
}

// TestOutboxE2ERelayKill9 commits 5,000 events while `wolfix serve` runs without its relay,
// starts `wolfix relay`, kills it with SIGKILL once some but not all events have arrived, starts
// it again, and expects every event on the broker, each acted on once by a deduplicating consumer.
func TestOutboxE2ERelayKill9(t *testing.T) {
	for _, b := range outboxBrokers {
		t.Run(b.name, func(t *testing.T) {
			pg := testenv.PostgresURL(t)
			s := startService(t, append(append(b.env(t), volumeEnv...), "WOLFIX_DATABASE_URL="+pg, "WOLFIX_RUN_RELAY=false")...)
			db := openOutboxDB(t, pg)

			const orders, perOrder = 1000, 5
			prefix := "kill9-" + outboxRandomHex()
			all := killEvents(prefix, orders, perOrder)
			want := map[string][]string{}
			for _, evs := range all {
				for _, ev := range evs {
					want[ev.OrderID] = append(want[ev.OrderID], ev.ID)
				}
			}
			reactionLog, err := sqlstore.NewReactionLog(db, sqlstore.Postgres)
			if err != nil {
				t.Fatal(err)
			}
			inbox := consumers.NewInbox(reactionLog)
			tp := newEventTap(func(orderID string) bool { return strings.HasPrefix(orderID, prefix) })
			tp.perTopic = b.perTopic
			acted := map[string]int{}
			consumer := "e2e-" + prefix
			tp.onDelivery = func(env events.Envelope) {
				err := inbox.Once(context.Background(), consumer, env.ID, func(context.Context) error {
					acted[env.ID]++ // the tap delivers one event at a time
					return nil
				})
				if err != nil {
					t.Errorf("inbox: %v", err)
				}
			}
			b.tap(t, tp)

			commitEvents(t, db, all, 50)
			total := orders * perOrder
			start := time.Now()
			first := s.startRelay()
			waitUntil(t, 60*time.Second, "the first events to arrive", func() bool { events, _ := tp.counts(); return events >= total/10 })
			first.kill9()
			killedAt, _ := tp.counts()
			if killedAt >= total {
				t.Errorf("the relay was killed after all %d events had arrived; the test proves nothing", total)
			}
			second := s.startRelay()
			tp.waitIDs(t, want, 2*time.Minute)
			elapsed := time.Since(start)
			if _, err := second.sigterm(20 * time.Second); err != nil {
				t.Error(err)
			}

			events, deliveries := tp.counts()
			actedOnce, actedMore := 0, 0
			tp.deliver.Lock()
			for _, n := range acted {
				if n == 1 {
					actedOnce++
				} else {
					actedMore++
				}
			}
			tp.deliver.Unlock()
			if actedOnce != total || actedMore != 0 {
				t.Errorf("consumer acted once on %d events and more than once on %d; want %d and 0", actedOnce, actedMore, total)
			}
			fmt.Printf("kill -9 relay (%s): %d events, killed after %d had arrived; %d deliveries (%d duplicates seen by the consumer, dropped by its inbox); consumer acted %d times; %s from the first relay start to the last arrival\n",
				b.name, total, killedAt, deliveries, deliveries-events, actedOnce+actedMore, elapsed.Round(time.Millisecond))
		})
	}
}

// TestOutboxE2EBrokerOutage runs `wolfix serve` against a NATS server of its own, stops that
// server for 30 s while orders keep being created, and expects the orders to succeed, /readyz to
// name the relay during the outage, and every event on the broker once it is back.
func TestOutboxE2EBrokerOutage(t *testing.T) {
	const outage = 30 * time.Second
	natsd := startPrivateNATS(t)
	s := startService(t, append(volumeEnv, "WOLFIX_DATABASE_URL="+testenv.PostgresURL(t), "WOLFIX_BROKER_KIND=nats",
		"WOLFIX_NATS_URL="+natsd.url)...)
	cust := s.token("cust-outage", "customer")
	want := map[string][]string{}
	create := func(i int) {
		id, secret := s.createCardOrder(cust)
		want[id] = []string{events.TopicOrderCreated}
		if i%2 == 0 {
			s.expect(s.confirmCard(secret, cardOK), http.StatusOK, "")
			want[id] = append(want[id], events.TopicOrderPaid)
		}
	}
	for i := range 4 {
		create(i)
	}
	readStream(t, natsd.url, want, 30*time.Second)

	natsd.stop()
	down := time.Now()
	var created, readyzDown int
	var firstDown time.Duration
	var lastReadyz string
	for i := 0; time.Since(down) < outage; i++ {
		create(i)
		created++
		r := s.do(http.MethodGet, "/readyz", "", nil)
		lastReadyz = fmt.Sprintf("%d %s", r.status, r.raw)
		if r.status == http.StatusServiceUnavailable && strings.Contains(string(r.raw), "outbox relay") {
			if readyzDown == 0 {
				firstDown = time.Since(down)
			}
			readyzDown++
		}
		time.Sleep(500 * time.Millisecond)
	}
	if readyzDown == 0 {
		t.Errorf("during a %s broker outage /readyz never answered 503 naming the outbox relay; last: %s", outage, lastReadyz)
	}

	natsd.start(t)
	up := time.Now()
	readStream(t, natsd.url, want, 2*time.Minute)
	drained := time.Since(up)
	waitUntil(t, 60*time.Second, "/readyz to recover", func() bool {
		return s.do(http.MethodGet, "/readyz", "", nil).status == http.StatusOK
	})
	recovered := time.Since(up)
	events := 0
	for _, types := range want {
		events += len(types)
	}
	fmt.Printf("broker outage %s: %d orders created during it (all 201); /readyz 503 naming the relay from %s after the stop (%d of %d probes); all %d events on the broker %s after the restart; /readyz 200 again after %s\n",
		outage, created, firstDown.Round(100*time.Millisecond), readyzDown, created, events, drained.Round(100*time.Millisecond), recovered.Round(100*time.Millisecond))
}

// createCardOrder creates a card order of one unit and returns its id and client secret.
func (s *service) createCardOrder(token string) (id, secret string) {
	s.t.Helper()
	p := s.pickProduct(1)
	r := s.do(http.MethodPost, "/api/orders/with-payment", token, orderBody(p.id, 1))
	s.expect(r, http.StatusCreated, "")
	return r.body["orderId"].(string), r.body["clientSecret"].(string)
}

// startRelay starts a `wolfix relay` on the service's configuration (procs_test.go's process
// helper) and waits until its operations listener reports it ready.
func (s *service) startRelay() *proc {
	s.t.Helper()
	return (&topology{t: s.t, env: slices.Clone(s.env)}).relay("wolfix relay")
}

// eventTap records the orders.* events a test sees on the broker.
type eventTap struct {
	keep       func(orderID string) bool
	onDelivery func(env events.Envelope) // called for every delivery kept, one at a time
	perTopic   bool                      // compare each order's events topic by topic

	mu         sync.Mutex
	allowed    map[string]bool
	byID       map[string]events.Envelope
	perOrder   map[string][]events.Envelope // first arrivals, in arrival order
	deliveries int
	conflicts  []string
	deliver    sync.Mutex
}

// newEventTap keeps the events of orders keep accepts, or, when keep is nil, of orders allowed.
func newEventTap(keep func(orderID string) bool) *eventTap {
	tp := &eventTap{keep: keep, allowed: map[string]bool{}, byID: map[string]events.Envelope{}, perOrder: map[string][]events.Envelope{}}
	if keep == nil {
		tp.keep = func(orderID string) bool { return tp.allowed[orderID] }
	}
	return tp
}

func (tp *eventTap) allow(orderID string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.allowed[orderID] = true
}

// record takes one delivery's payload.
func (tp *eventTap) record(payload []byte) {
	env, err := events.Decode(payload)
	if err != nil {
		return // not an event of this service
	}
	tp.deliver.Lock()
	defer tp.deliver.Unlock()
	tp.mu.Lock()
	// every event is recorded: one may arrive before the HTTP answer that names its order
	kept := tp.keep(env.OrderID)
	tp.deliveries++
	if prev, dup := tp.byID[env.ID]; dup {
		if prev.Type != env.Type || prev.OrderID != env.OrderID {
			tp.conflicts = append(tp.conflicts, fmt.Sprintf("id %s: %s/%s and %s/%s", env.ID, prev.OrderID, prev.Type, env.OrderID, env.Type))
		}
	} else {
		tp.byID[env.ID] = env
		tp.perOrder[env.OrderID] = append(tp.perOrder[env.OrderID], env)
	}
	onDelivery := tp.onDelivery
	tp.mu.Unlock()
	if kept && onDelivery != nil {
		onDelivery(env)
	}
}

// counts returns the distinct events and the deliveries of the kept orders.
func (tp *eventTap) counts() (events, deliveries int) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for orderID, evs := range tp.perOrder {
		if tp.keep(orderID) {
			events += len(evs)
		}
	}
	return events, tp.keptDeliveries()
}

// keptDeliveries is deliveries, minus those of orders not kept; mu is held.
func (tp *eventTap) keptDeliveries() int {
	other := 0
	for orderID, evs := range tp.perOrder {
		if !tp.keep(orderID) {
			other += len(evs)
		}
	}
	return tp.deliveries - other
}

// waitTypes waits until each order's events have arrived, then checks that each order got
// exactly its events' types, in order, and that no id named two events.
func (tp *eventTap) waitTypes(t *testing.T, want map[string][]string, timeout time.Duration) {
	t.Helper()
	tp.wait(t, want, timeout, func(e events.Envelope) string { return e.Type })
}

// waitIDs is waitTypes by event id.
func (tp *eventTap) waitIDs(t *testing.T, want map[string][]string, timeout time.Duration) {
	t.Helper()
	tp.wait(t, want, timeout, func(e events.Envelope) string { return e.ID })
}

func (tp *eventTap) wait(t *testing.T, want map[string][]string, timeout time.Duration, key func(events.Envelope) string) {
	t.Helper()
	got := func() map[string][]string {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		out := map[string][]string{}
		for orderID := range want {
			for _, e := range tp.perOrder[orderID] {
				out[orderID] = append(out[orderID], key(e))
			}
		}
		return out
	}
	complete := func(g map[string][]string) bool {
		for orderID, w := range want {
			if len(g[orderID]) < len(w) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(timeout)
	g := got()
	for !complete(g) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		g = got()
	}
	time.Sleep(200 * time.Millisecond) // let strays (events not expected) show up
	g = got()
	missing, wrong := 0, 0
	for orderID, w := range want {
		if !slices.Equal(tp.inComparedOrder(g[orderID]), tp.inComparedOrder(w)) {
			if len(g[orderID]) < len(w) {
				missing++
			} else {
				wrong++
			}
			if missing+wrong <= 5 {
				t.Errorf("order %s: got %v; want %v", orderID, g[orderID], w)
			}
		}
	}
	if missing+wrong > 0 {
		t.Errorf("%d of %d orders incomplete after %s, %d with wrong or out-of-order events", missing, len(want), timeout, wrong)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, c := range tp.conflicts {
		t.Errorf("one id, two events: %s", c)
	}
}

// inComparedOrder returns keys (event ids or types) as the tap compares them: as they are, or,
// with perTopic, stably grouped by topic, so that only each topic's own order counts.
func (tp *eventTap) inComparedOrder(keys []string) []string {
	if !tp.perTopic {
		return keys
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	topic := func(key string) string {
		if env, ok := tp.byID[key]; ok {
			return env.Type
		}
		return key // a type already, or an id that never arrived
	}
	return slices.SortedStableFunc(slices.Values(keys), func(a, b string) int { return strings.Compare(topic(a), topic(b)) })
}

// tapNATS subscribes an ephemeral JetStream consumer (no acks, gone with the connection) to the
// service's stream.
func tapNATS(t *testing.T, url string, tp *eventTap, deliver nats.SubOpt) (stop func()) {
	t.Helper()
	conn, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to NATS: %v", err)
	}
	t.Cleanup(conn.Close)
	js, err := conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := js.Subscribe(outboxE2ESubjects, func(m *nats.Msg) { tp.record(m.Data) },
		nats.BindStream(outboxE2EStream), deliver, nats.AckNone())
	if err != nil {
		t.Fatalf("subscribe to %s: %v", outboxE2EStream, err)
	}
	stop = func() { _ = sub.Unsubscribe(); conn.Close() }
	t.Cleanup(stop)
	return stop
}

// tapAMQP binds an exclusive, auto-deleted queue of the test's own to the service's exchange.
func tapAMQP(t *testing.T, url string, tp *eventTap) {
	t.Helper()
	conn, err := amqp091.Dial(url)
	if err != nil {
		t.Fatalf("connect to RabbitMQ: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(outboxE2EExchange, "topic", true, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange: %v", err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("declare queue: %v", err)
	}
	if err := ch.QueueBind(q.Name, "orders.#", outboxE2EExchange, false, nil); err != nil {
		t.Fatalf("bind queue: %v", err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	go func() {
		for d := range deliveries {
			tp.record(d.Body)
		}
	}()
}

// tapRedis reads the service's orders.* streams through a consumer group of the test's own,
// created at the streams' ends (no acks; the group is destroyed when the test ends).
func tapRedis(t *testing.T, url string, tp *eventTap) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	group := "e2e-tap-" + outboxRandomHex()
	streams := make([]string, 0, 2*len(orderTopics))
	for _, topic := range orderTopics {
		key := brokerredis.StreamKey(brokerredis.DefaultKeyPrefix, topic)
		if err := client.XGroupCreateMkStream(t.Context(), key, group, "$").Err(); err != nil {
			t.Fatalf("create the tap's group on %s: %v", key, err)
		}
		streams = append(streams, key)
	}
	for range orderTopics {
		streams = append(streams, ">")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		for _, key := range streams[:len(orderTopics)] {
			_ = client.XGroupDestroy(context.Background(), key, group).Err()
		}
		_ = client.Close()
	})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			res, err := client.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "tap", Streams: streams,
				Count: 500, Block: 200 * time.Millisecond, NoAck: true}).Result()
			if err != nil {
				continue // nothing new (redis.Nil), or the test is ending
			}
			for _, stream := range res {
				for _, m := range stream.Messages {
					tp.record(redisPayload(m.Values))
				}
			}
		}
	}()
}

// redisPayload is the payload watermill's Redis Streams marshaller stored in an entry.
func redisPayload(values map[string]any) []byte {
	payload, _ := values["payload"].(string)
	return []byte(payload)
}

// readStream reads the whole stream of a private NATS server with a fresh consumer and waits
// until every order has its events, in order.
func readStream(t *testing.T, url string, want map[string][]string, timeout time.Duration) {
	t.Helper()
	want = maps.Clone(want)
	tp := newEventTap(func(orderID string) bool { _, ok := want[orderID]; return ok })
	defer tapNATS(t, url, tp, nats.DeliverAll())()
	tp.waitTypes(t, want, timeout)
}

// privateNATS is a nats-server of the test's own, which it may stop and start again.
type privateNATS struct {
	url, addr, port, dir string
	cmd                  *exec.Cmd
	done                 chan struct{}
	logs                 *testenv.Buffer
}

const natsServerPath = "/usr/sbin/nats-server"

func startPrivateNATS(t *testing.T) *privateNATS {
	t.Helper()
	if _, err := os.Stat(natsServerPath); err != nil {
		testenv.Missing(t, "nats-server", "install nats-server at "+natsServerPath, err)
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	n := &privateNATS{url: "nats://" + addr, addr: addr, port: port, dir: t.TempDir(), logs: &testenv.Buffer{}}
	n.start(t)
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("nats-server output:\n%s", n.logs.String())
		}
	})
	return n
}

func (n *privateNATS) start(t *testing.T) {
	t.Helper()
	n.cmd = exec.Command(natsServerPath, "-a", "127.0.0.1", "-p", n.port, "-js", "-sd", n.dir)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	n.done = make(chan struct{})
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	done := n.done
	cmd := n.cmd
	go func() { _ = cmd.Wait(); close(done) }()
	waitUntil(t, 15*time.Second, "nats-server to listen", func() bool {
		c, err := net.DialTimeout("tcp", n.addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
}

// stop kills the server (SIGKILL, as a crash) and waits for it to be gone.
func (n *privateNATS) stop() {
	if n.cmd == nil {
		return
	}
	select {
	case <-n.done:
	default:
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

func openOutboxDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// killEvents are the events of `orders` orders, `perOrder` each; their topics are not ones the
// service's own consumers handle.
func killEvents(prefix string, orders, perOrder int) [][]app.Event {
	topics := []string{events.TopicOrderPaid, events.TopicOrderShipped, events.TopicOrderDelivered}
	all := make([][]app.Event, orders)
	for o := range all {
		for seq := range perOrder {
			all[o] = append(all[o], app.Event{ID: fmt.Sprintf("%s-%d-%d", prefix, o, seq), Type: topics[seq%len(topics)],
				OccurredAt: time.Now(), OrderID: fmt.Sprintf("%s-order-%d", prefix, o), Data: map[string]int{"seq": seq}})
		}
	}
	return all
}

// commitEvents writes the events through the outbox, perTx of them to a transaction, each
// order's events in order.
func commitEvents(t *testing.T, db *sql.DB, orders [][]app.Event, perTx int) {
	t.Helper()
	open, err := outbox.NewOpener(outbox.DialectPostgres, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for chunk := range slices.Chunk(slices.Concat(orders...), perTx) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ob, err := open(ctx, tx)
		if err == nil {
			err = ob.Publish(ctx, chunk...)
		}
		if err != nil {
			_ = tx.Rollback()
			t.Fatalf("write events: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit events: %v", err)
		}
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func outboxRandomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
