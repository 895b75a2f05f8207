package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
)

// chaosAudit is the after-the-fact check of every promise, printed as a table.
type chaosAudit struct {
	rows []auditRow
}

type auditRow struct {
	check     string
	want, got string
	ok        bool
}

func (a *chaosAudit) add(check string, want, got any, ok bool) {
	a.rows = append(a.rows, auditRow{check: check, want: fmt.Sprint(want), got: fmt.Sprint(got), ok: ok})
}

// report logs the table and fails the test for every row that does not hold.
func (a *chaosAudit) report(t *testing.T, title string) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "| check\t| want\t| got\t| ok\t|\n")
	for _, r := range a.rows {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %v\t|\n", r.check, r.want, r.got, r.ok)
	}
	_ = tw.Flush()
	t.Logf("%s\n%s", title, b.String())
	for _, r := range a.rows {
		if !r.ok {
			t.Errorf("audit: %s: got %s; want %s", r.check, r.got, r.want)
		}
	}
}

// auditChaos checks, after the load and a clean restart: every acknowledged order exists; every
// key replays its one answer; no order exists that no key acknowledged; stock equals the initial
// stock less what live orders hold; every outbox event is on the broker; no webhook event is left
// unprocessed, no card payment is left Pending once the reconciler had its turn, and every paid
// order reached the fulfillment consumer exactly once.
func auditChaos(t *testing.T, a *chaosAudit, l *chaosLoad, db *sql.DB, bus natsStream, initialStock int64, settle time.Duration) {
	t.Helper()
	ctx := context.Background()
	stored := queryOrders(t, db)
	missing, wrongReplay := 0, 0
	for key, ack := range l.acks {
		if _, ok := stored[ack.orderID]; !ok {
			missing++
		}
		if !l.replays(ctx, key, ack) {
			wrongReplay++
		}
	}
	a.add("acknowledged orders that exist", len(l.acks), len(l.acks)-missing, missing == 0)
	a.add("keys whose replay is the kept answer (201, same order, Idempotent-Replayed)", len(l.acks), len(l.acks)-wrongReplay, wrongReplay == 0)
	a.add("orders no key acknowledged (duplicates, lost answers)", 0, len(stored)-(len(l.acks)-missing), len(stored) == len(l.acks)-missing)

	held, stock := heldStock(t, db), productStock(t, db, l.products)
	bad := 0
	for _, id := range l.products {
		if stock[id] != initialStock-held[id] {
			bad++
			t.Logf("product %s: stock %d; initial %d less %d held by live orders = %d", id, stock[id], initialStock, held[id], initialStock-held[id])
		}
	}
	a.add("products whose stock = initial − live quantities", len(l.products), len(l.products)-bad, bad == 0)

	rows, onBus := eventually(settle, func() (int, int) {
		return countRows(t, db, "SELECT count(*) FROM outbox_messages"), bus.distinctEvents(t)
	})
	a.add("outbox events on the broker (distinct ids)", rows, onBus, rows == onBus && rows > 0)
	unprocessed, _ := eventually(settle, func() (int, int) {
		n := countRows(t, db, "SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")
		return n, 0
	})
	a.add("webhook events left unprocessed", 0, unprocessed, unprocessed == 0)
	pending, _ := eventually(settle, func() (int, int) {
		n := countRows(t, db, `SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id
			WHERE p.method = 'card' AND p.status = 'Pending' AND o.status <> 'Cancelled'`)
		return n, 0
	})
	a.add("card payments still Pending on live orders after the reconciler", 0, pending, pending == 0)
	unfulfilled, _ := eventually(settle, func() (int, int) {
		n := countRows(t, db, `SELECT count(*) FROM payments p WHERE p.status = 'Paid' AND (SELECT count(*)
			FROM order_timeline t WHERE t.order_id = p.order_id AND t.type = 'fulfillment.requested') <> 1`)
		return n, 0
	})
	a.add("paid orders not handed to fulfillment exactly once (consumer of orders.paid)", 0, unfulfilled, unfulfilled == 0)
}

// eventually polls f until its two figures agree or the time is up, and returns the last ones.
func eventually(within time.Duration, f func() (int, int)) (int, int) {
	deadline := time.Now().Add(within)
	for {
		a, b := f()
		if a == b || time.Now().After(deadline) {
			return a, b
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// replays sends the acknowledged request again with its key and expects the kept answer.
func (l *chaosLoad) replays(ctx context.Context, key string, ack chaosAck) bool {
	status, header, raw := l.send(http.MethodPost, ack.path, ack.token, ack.body, "Idempotency-Key", key)
	var again struct{ OrderID string }
	return status == http.StatusCreated && header.Get("Idempotent-Replayed") == "true" &&
		json.Unmarshal(raw, &again) == nil && again.OrderID == ack.orderID
}

// queryOrders returns the ids of the chaos customers' orders.
func queryOrders(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT id FROM orders WHERE customer_id LIKE 'chaos-customer-%'`)
	if err != nil {
		t.Fatalf("audit: orders: %v", err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

// heldStock sums, per product, the quantities of orders that still hold their stock.
func heldStock(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	return sumByProduct(t, db, `SELECT i.product_id, sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE NOT o.stock_returned GROUP BY i.product_id`)
}

func productStock(t *testing.T, db *sql.DB, ids []string) map[string]int64 {
	t.Helper()
	all := sumByProduct(t, db, `SELECT id, stock FROM products`)
	out := make(map[string]int64, len(ids))
	for _, id := range ids {
		out[id] = all[id]
	}
	return out
}

func sumByProduct(t *testing.T, db *sql.DB, query string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

func countRows(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("audit: %s: %v", query, err)
	}
	return n
}

// natsStream is a JetStream stream of the test's own, which the service publishes to.
type natsStream struct {
	url, name, prefix string
}

// newNATSStream names a fresh stream on the NATS at url.
func newNATSStream(t *testing.T, url string) natsStream {
	suffix := strings.ToUpper(outboxRandomHex())
	s := natsStream{url: url, name: "WOLFIX_TEST_" + suffix, prefix: "wolfixtest" + strings.ToLower(suffix)}
	s.deleteAtEnd(t)
	return s
}

// streamOf is the stream a topology's processes publish to.
func streamOf(t *testing.T, tp *topology) natsStream {
	s := natsStream{url: tp.lookup("WOLFIX_NATS_URL"), name: tp.lookup("WOLFIX_NATS_STREAM"),
		prefix: tp.lookup("WOLFIX_NATS_SUBJECT_PREFIX")}
	s.deleteAtEnd(t)
	return s
}

func (s natsStream) deleteAtEnd(t *testing.T) {
	t.Cleanup(func() {
		if conn, err := nats.Connect(s.url); err == nil {
			if js, err := conn.JetStream(); err == nil {
				_ = js.DeleteStream(s.name)
			}
			conn.Close()
		}
	})
}

// distinctEvents reads the whole stream and counts distinct event ids (-1 when it cannot be read).
func (s natsStream) distinctEvents(t *testing.T) int {
	conn, err := nats.Connect(s.url)
	if err != nil {
		return -1
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err != nil {
		return -1
	}
	info, err := js.StreamInfo(s.name)
	if err != nil {
		return -1
	}
	sub, err := js.SubscribeSync(s.prefix+".>", nats.BindStream(s.name), nats.OrderedConsumer())
	if err != nil {
		return -1
	}
	defer func() { _ = sub.Unsubscribe() }()
	ids := map[string]bool{}
	for range info.State.Msgs {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Logf("reading stream %s: %v", s.name, err)
			return -1
		}
		var env struct{ ID string }
		if err := json.NewDecoder(bytes.NewReader(m.Data)).Decode(&env); err != nil || env.ID == "" {
			t.Logf("a message on %s is not an event envelope: %s", m.Subject, m.Data)
			return -1
		}
		ids[env.ID] = true
	}
	return len(ids)
}
