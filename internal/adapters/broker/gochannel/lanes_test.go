package gochannel_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
)

// TestEventsAreHandledAtOnceNotOneAfterAnother holds every delivery until several are held
// together: a broker that waited for each event's ack before delivering the next (one lane) would
// never get a second one there, and its consumers, each waiting for the database, would fall
// behind the API under load. Every event still arrives exactly once when acked.
func TestEventsAreHandledAtOnceNotOneAfterAnother(t *testing.T) {
	const want = 4
	b, msgs := subscribed(t, "notifications", "orders.created")
	for i := range 2 * want {
		publishFor(t, b, fmt.Sprintf("order-%d", i))
	}
	var held atomic.Int32
	release := make(chan struct{})
	seen := map[string]int{}
	deadline := time.After(5 * time.Second)
	for len(seen) < 2*want {
		select {
		case msg := <-msgs:
			seen[msg.UUID]++
			go func() {
				if held.Add(1) == want {
					close(release)
				}
				<-release
				msg.Ack()
			}()
		case <-deadline:
			t.Fatalf("%d events delivered, %d held unacked at once; want %d held together", len(seen), held.Load(), want)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
}

// TestEventsOfOneOrderArriveInOrder publishes the events of three orders interleaved, acking each
// as it arrives: lanes deliver at once, but each order's events keep the order they were
// published in.
func TestEventsOfOneOrderArriveInOrder(t *testing.T) {
	const perOrder = 50
	b, msgs := subscribed(t, "fulfillment", "orders.paid")
	orders := []string{"order-a", "order-b", "order-c"}
	for seq := range perOrder {
		for _, o := range orders {
			msg := message.NewMessage(fmt.Sprintf("%s/%03d", o, seq), nil)
			msg.Metadata.Set(broker.MetaOrderingKey, o)
			if err := b.Publisher().Publish("orders.paid", msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := map[string][]string{}
	deadline := time.After(5 * time.Second)
	for n := 0; n < perOrder*len(orders); n++ {
		select {
		case msg := <-msgs:
			key := msg.Metadata.Get(broker.MetaOrderingKey)
			got[key] = append(got[key], msg.UUID)
			msg.Ack()
		case <-deadline:
			t.Fatalf("%d of %d events arrived", n, perOrder*len(orders))
		}
	}
	for _, o := range orders {
		if !slices.IsSorted(got[o]) || len(got[o]) != perOrder {
			t.Errorf("%s: events arrived as %v; want its %d in publication order", o, got[o], perOrder)
		}
	}
}

// publishFor publishes one event of order orderID.
func publishFor(t *testing.T, b *gochannel.Broker, orderID string) {
	t.Helper()
	msg := message.NewMessage(watermill.NewUUID(), nil)
	msg.Metadata.Set(broker.MetaOrderingKey, orderID)
	if err := b.Publisher().Publish("orders.created", msg); err != nil {
		t.Fatal(err)
	}
}

// subscribed opens a broker for the test and subscribes group to topic.
func subscribed(t *testing.T, group, topic string) (*gochannel.Broker, <-chan *message.Message) {
	t.Helper()
	b := gochannel.New(brokertest.Logger())
	t.Cleanup(func() { _ = b.Close() })
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return b, msgs
}
