package consumers_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/amqptest"
	"github.com/wolfix/orders/internal/adapters/broker/natstest"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/testenv"
	"github.com/wolfix/orders/migrations"
)

// fakeFulfiller records the orders handed to fulfillment; it fails the first try of the orders
// in failOnce.
type fakeFulfiller struct {
	mu       sync.Mutex
	calls    map[string]int
	failOnce map[string]bool
}

func (f *fakeFulfiller) RequestFulfillment(_ context.Context, orderID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[orderID]++
	if f.failOnce[orderID] && f.calls[orderID] == 1 {
		return errors.New("fulfillment is busy")
	}
	return nil
}

func (f *fakeFulfiller) count(orderID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[orderID]
}

// TestFulfillmentOncePerPaidEvent runs a fulfillment reaction on PostgreSQL with NATS JetStream
// and with RabbitMQ: each orders.paid event hands its order over once, redeliveries are dropped,
// a failed try is retried, and other topics are ignored.
func TestFulfillmentOncePerPaidEvent(t *testing.T) {
	for name, openBroker := range map[string]func(t *testing.T) broker.Broker{
		"nats": func(t *testing.T) broker.Broker { return natstest.Open(t, "consumerstest") },
		"amqp": func(t *testing.T) broker.Broker { return amqptest.Open(t, "consumerstest") },
	} {
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open("pgx", testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			applyMigrations(t, db, migrations.Postgres())
			b := openBroker(t)
			inbox := newInbox(t, db, sqlstore.Postgres)
			logger := discardLogger()
			r, err := consumers.NewRouter(b, b.Publisher(), inbox, logger, consumers.RouterConfig{RetryInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeFulfiller{calls: map[string]int{}, failOnce: map[string]bool{"ord-2": true}}
			err = r.React(app.Reaction{Consumer: app.FulfillmentConsumer, Topic: events.TopicOrderPaid,
				Handle: func(ctx context.Context, ev events.Envelope) error { return f.RequestFulfillment(ctx, ev.OrderID) }})
			if err != nil {
				t.Fatal(err)
			}
			run(t, r)

			publishFor(t, b, "orders.paid", "ord-1", "paid-1")
			publishFor(t, b, "orders.paid", "ord-1", "paid-1") // redelivered by the relay
			publishFor(t, b, "orders.paid", "ord-2", "paid-2")
			publishFor(t, b, "orders.created", "ord-3", "created-3")
			waitFor(t, func() bool { return f.count("ord-1") >= 1 && f.count("ord-2") >= 2 })
			time.Sleep(300 * time.Millisecond) // a second hand-over, if any, shows up
			for order, want := range map[string]int{"ord-1": 1, "ord-2": 2, "ord-3": 0} {
				if got := f.count(order); got != want {
					t.Errorf("%s: RequestFulfillment called %d times; want %d", order, got, want)
				}
			}
			var handled int
			if err := db.QueryRow(`SELECT count(*) FROM consumed_events WHERE consumer = $1 AND done_at IS NOT NULL`,
				app.FulfillmentConsumer).Scan(&handled); err != nil {
				t.Fatal(err)
			}
			if handled != 2 {
				t.Errorf("inbox: %d events done; want 2", handled)
			}
		})
	}
}

func publishFor(t *testing.T, b broker.Broker, topic, orderID, id string) {
	t.Helper()
	publishEnvelope(t, b, topic, orderID, id)
}
