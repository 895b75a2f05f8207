package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app/events"
)

// TestScaleOut runs the production topology of deploy/compose.yaml as processes: migrations once
// (`wolfix migrate up`), 3 API replicas (WOLFIX_RUN_RELAY=false) and 2 relays on one fresh
// Postgres database and NATS (a stream of the test's own). Orders (cash, and card paid on another
// replica than the one that opened the intent) go through every replica, each POST with an
// Idempotency-Key; one API replica and one relay are killed with SIGKILL mid-run and started again.
// A request lost to the kill is retried, with its key, on the next replica until it is answered.
// The audit: every acknowledged order exists, exactly once; every lost request was completed by
// a retry; every event reached the broker (a webhook lost with the killed replica is made good by
// the reconciler), and a deduplicating consumer acted once per event id.
// The load lasts WOLFIX_SCALE_BUDGET (default 20s; make scale-test gives it 60s).
func TestScaleOut(t *testing.T) {
	budget := 20 * time.Second
	if v := os.Getenv("WOLFIX_SCALE_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 5*time.Second {
			t.Fatalf("WOLFIX_SCALE_BUDGET=%q: want a duration of at least 5s", v)
		}
		budget = d
	}
	// a payment confirmed on the killed replica may lose its webhook (queued in that process): the
	// reconciler of a surviving replica finds it, soon here, as it would in minutes in production
	tp := newTopology(t, true, "WOLFIX_RUN_RELAY=false", "WOLFIX_MIGRATE_ON_START=false", "WOLFIX_IDEMPOTENCY_LEASE=2s",
		"WOLFIX_RECONCILE_AFTER=3s", "WOLFIX_RECONCILE_EVERY=1s")
	migrate := exec.Command(wolfixBinary(t), "migrate", "up")
	migrate.Env = tp.env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("wolfix migrate up: %v\n%s", err, out)
	}
	apis := []*proc{tp.serve("api-1")} // creates the stream
	broker := tapStream(t, tp)
	apis = append(apis, tp.serve("api-2"), tp.serve("api-3"))
	relays := []*proc{tp.relay("relay-1"), tp.relay("relay-2")}

	run := newScaleRun(t, apis)
	ctx, stop := context.WithTimeout(context.Background(), budget)
	defer stop()
	wait := untilCancelled(ctx, 6, run.order)
	time.Sleep(budget / 3)
	apis[1].kill9()
	relays[0].kill9()
	killedAt := time.Now()
	time.Sleep(2 * time.Second)
	apis[1].restart()
	relays[0].restart()
	downFor := time.Since(killedAt)
	wait()

	want := run.expectedEvents()
	broker.waitEvents(t, want, 2*time.Minute)
	run.audit(t, broker, want, downFor)
}

// scaleRun is the load of TestScaleOut and what it saw.
type scaleRun struct {
	t       *testing.T
	apis    []*proc
	clients []*service
	product string
	admin   string
	tokens  []string

	mu        sync.Mutex
	acked     map[string]string // order id → Idempotency-Key
	card      map[string]bool   // card orders confirmed as paid
	lost      int               // requests whose first attempt was lost (refused, cut off, 5xx)
	recovered int               // lost requests a retry with the same key completed
	failed    []string          // requests no retry completed, or refused for good
	answers   counter           // every answer and transport failure, by kind
}

func newScaleRun(t *testing.T, apis []*proc) *scaleRun {
	r := &scaleRun{t: t, apis: apis, acked: map[string]string{}, card: map[string]bool{}}
	for _, p := range apis {
		r.clients = append(r.clients, p.client())
	}
	r.product = r.clients[0].newProduct(990, 10_000_000).id
	r.admin = r.clients[0].token("admin-scale", "admin")
	for w := range 6 {
		r.tokens = append(r.tokens, r.clients[0].token(fmt.Sprintf("scale-%d", w), "customer"))
	}
	return r
}

// order places one order through replica worker%3 (a card order on every other turn, then paid
// through the next replica) and retries it with the same key until it is answered.
func (r *scaleRun) order(worker int) {
	card := time.Now().UnixNano()%2 == 0
	path := "/api/orders"
	if card {
		path = "/api/orders/with-payment"
	}
	key := "scale-" + randomHex(8)
	status, body, ok := r.send(worker, worker%len(r.apis), path, orderJSON(r.product), "Idempotency-Key", key)
	if !ok {
		return
	}
	if status != http.StatusCreated {
		r.fail(fmt.Sprintf("POST %s answered %d: %s", path, status, body))
		return
	}
	orderID := jsonField(body, "orderId")
	if orderID == "" {
		orderID = jsonField(body, "id")
	}
	r.mu.Lock()
	if prev, dup := r.acked[orderID]; dup && prev != key {
		r.failed = append(r.failed, fmt.Sprintf("order %s acknowledged for keys %s and %s", orderID, prev, key))
	}
	r.acked[orderID] = key
	r.mu.Unlock()
	if !card {
		return
	}
	secret := jsonField(body, "clientSecret")
	intent, _, _ := strings.Cut(secret, "_secret_")
	status, body, ok = r.send(worker, worker+1, "/sandbox/payment-intents/"+intent+"/confirm",
		fmt.Sprintf(`{"clientSecret":%q,"cardNumber":"4242424242424242"}`, secret))
	switch {
	case !ok:
	case status == http.StatusOK || (status == http.StatusConflict && strings.Contains(string(body), "payment_intent_unexpected_state")):
		r.mu.Lock()
		r.card[orderID] = true
		r.mu.Unlock()
	default:
		r.fail(fmt.Sprintf("confirm %s answered %d: %s", intent, status, body))
	}
}

// send POSTs through replica first, and, while the attempt is lost (refused, cut off, 5xx) or
// its key is still held by a lost attempt (409 while the lease runs), again through the next
// replicas for up to a minute. ok is false when no attempt was answered.
func (r *scaleRun) send(worker, first int, path, body string, headers ...string) (int, []byte, bool) {
	lost := false
	deadline := time.Now().Add(time.Minute)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		s := r.clients[(first+attempt)%len(r.clients)]
		status, _, raw, err := s.roundTrip(http.MethodPost, path, r.tokens[worker], strings.NewReader(body), headers...)
		switch o := classify(err); {
		case o == refused:
			r.answers.add("refused")
		case o == cutOff:
			r.answers.add("cut off")
		case status >= 500:
			r.answers.add(fmt.Sprint(status))
		case status == http.StatusConflict && strings.Contains(string(raw), "idempotency"):
			r.answers.add("409 key in use")
		default:
			r.answers.add(fmt.Sprint(status))
			if lost {
				r.mu.Lock()
				r.recovered++
				r.mu.Unlock()
			}
			return status, raw, true
		}
		if !lost {
			lost = true
			r.mu.Lock()
			r.lost++
			r.mu.Unlock()
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.fail(fmt.Sprintf("POST %s was never answered", path))
	return 0, nil, false
}

func (r *scaleRun) fail(what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, what)
}

// expectedEvents are the events each acknowledged order must have produced, by order id.
func (r *scaleRun) expectedEvents() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := map[string][]string{}
	for id := range r.acked {
		want[id] = []string{events.TopicOrderCreated}
		if r.card[id] {
			want[id] = append(want[id], events.TopicOrderPaid)
		}
	}
	return want
}

// audit checks and prints what TestScaleOut promises.
func (r *scaleRun) audit(t *testing.T, broker *streamTap, want map[string][]string, downFor time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	existing := 0
	for id := range r.acked {
		status, _, _, err := r.clients[0].roundTrip(http.MethodGet, "/api/orders/"+id, r.admin, nil)
		if err == nil && status == http.StatusOK {
			existing++
		} else {
			t.Errorf("acknowledged order %s: GET answered %d (%v)", id, status, err)
		}
	}
	var stored int
	db := openOutboxDB(t, r.apis[0].lookupEnv("WOLFIX_DATABASE_URL"))
	if err := db.QueryRow(`SELECT count(*) FROM orders WHERE customer_id LIKE 'scale-%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	events, deliveries, missing, actedOnce, actedMore := broker.summary(want)
	onBroker := broker.distinct()
	paid := 0
	for range r.card {
		paid++
	}

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(what string, got, wantN any) { fmt.Fprintf(tw, "%s\t%v\t%v\t\n", what, got, wantN) }
	fmt.Fprintf(tw, "check\tgot\twant\t\n")
	row("orders acknowledged (201)", len(r.acked), "> 0")
	row("  of which card, paid on another replica", paid, "> 0")
	row("acknowledged orders that exist (GET 200)", existing, len(r.acked))
	row("orders stored for the load's customers", stored, len(r.acked))
	row("requests lost to the kills (refused, cut off, 5xx)", r.lost, "> 0")
	row("  completed by a retry with the same key", r.recovered, r.lost)
	row("requests never completed or refused for good", len(r.failed), 0)
	row("events expected / distinct on the broker", fmt.Sprintf("%d / %d", countEvents(want), events), "equal")
	row("  orders missing an event", missing, 0)
	row("  broker deliveries (copies dropped by the consumer)", fmt.Sprintf("%d (%d)", deliveries, deliveries-events), "≥ events")
	row("consumer acted once / more than once per event id", fmt.Sprintf("%d / %d", actedOnce, actedMore), fmt.Sprintf("%d / 0", onBroker))
	_ = tw.Flush()
	t.Logf("scale-out audit (3 API replicas, 2 relays, Postgres+NATS; api-2 and relay-1 SIGKILLed and back after %s; answers: %s):\n%s",
		downFor.Round(100*time.Millisecond), r.answers.String(), b.String())

	switch {
	case len(r.acked) == 0 || paid == 0:
		t.Errorf("the load placed %d orders (%d paid by card); the test proves nothing", len(r.acked), paid)
	case r.lost == 0:
		t.Errorf("no request was lost to the kills; the test proves nothing about retries")
	}
	if existing != len(r.acked) || stored != len(r.acked) {
		t.Errorf("%d acknowledged orders, %d found, %d stored", len(r.acked), existing, stored)
	}
	if r.recovered != r.lost {
		t.Errorf("%d requests lost, %d completed by a retry", r.lost, r.recovered)
	}
	for i, f := range r.failed {
		if i < 10 {
			t.Error(f)
		}
	}
	if missing > 0 || actedMore > 0 || actedOnce != onBroker {
		t.Errorf("broker: %d orders missing events; consumer acted once on %d and more than once on %d of %d events", missing, actedOnce, actedMore, onBroker)
	}
}

func countEvents(want map[string][]string) int {
	n := 0
	for _, types := range want {
		n += len(types)
	}
	return n
}

// lookupEnv returns the value of one of the process's environment variables.
func (p *proc) lookupEnv(name string) string {
	return (&topology{env: p.env}).lookup(name)
}

// streamTap reads the topology's whole NATS stream (DeliverAll) and hands every event to a
// consumer that deduplicates by event id in the service's consumed_events table, as the in-repo
// consumers do.
type streamTap struct {
	mu         sync.Mutex
	byOrder    map[string][]string // event types in first-arrival order
	seen       map[string]bool
	deliveries int
	acted      map[string]int
}

func tapStream(t *testing.T, tp *topology) *streamTap {
	t.Helper()
	st := &streamTap{byOrder: map[string][]string{}, seen: map[string]bool{}, acted: map[string]int{}}
	conn, err := nats.Connect(tp.lookup("WOLFIX_NATS_URL"))
	if err != nil {
		t.Fatalf("connect to NATS: %v", err)
	}
	t.Cleanup(conn.Close)
	js, err := conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	stream, prefix := tp.lookup("WOLFIX_NATS_STREAM"), tp.lookup("WOLFIX_NATS_SUBJECT_PREFIX")
	t.Cleanup(func() { _ = js.DeleteStream(stream) })
	reactionLog, err := sqlstore.NewReactionLog(openOutboxDB(t, tp.lookup("WOLFIX_DATABASE_URL")), sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	inbox := consumers.NewInbox(reactionLog)
	_, err = js.Subscribe(prefix+".orders.>", func(m *nats.Msg) {
		env, err := events.Decode(m.Data)
		if err != nil {
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock() // one delivery at a time, as a consumer instance handles them
		st.deliveries++
		if !st.seen[env.ID] {
			st.seen[env.ID] = true
			st.byOrder[env.OrderID] = append(st.byOrder[env.OrderID], env.Type)
		}
		if err := inbox.Once(context.Background(), "scale-audit", env.ID, func(context.Context) error {
			st.acted[env.ID]++
			return nil
		}); err != nil {
			t.Errorf("consumer inbox: %v", err)
		}
	}, nats.BindStream(stream), nats.DeliverAll(), nats.AckNone())
	if err != nil {
		t.Fatalf("subscribe to %s: %v", stream, err)
	}
	return st
}

// distinct counts the distinct event ids seen on the stream.
func (st *streamTap) distinct() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.seen)
}

// waitEvents waits until every order has at least its expected events.
func (st *streamTap) waitEvents(t *testing.T, want map[string][]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, _, missing, _, _ := st.summary(want); missing == 0 {
			time.Sleep(500 * time.Millisecond) // let late copies arrive
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// summary counts the distinct events of the wanted orders, all deliveries, the orders whose events
// are not exactly the wanted ones (in order), and the events the consumer acted on once / more.
func (st *streamTap) summary(want map[string][]string) (events, deliveries, missing, actedOnce, actedMore int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for id, types := range want {
		got := st.byOrder[id]
		events += len(got)
		if strings.Join(got, ",") != strings.Join(types, ",") {
			missing++
		}
	}
	for _, n := range st.acted {
		if n == 1 {
			actedOnce++
		} else {
			actedMore++
		}
	}
	return events, st.deliveries, missing, actedOnce, actedMore
}
