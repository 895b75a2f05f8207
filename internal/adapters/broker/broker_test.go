package broker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
)

// kind opens a broker private to the test; cleanup removes what it created on the server.
type kind struct {
	name string
	open func(t *testing.T) *broker.Broker
	// replicas says whether subscribers of one group share the events (not in-process).
	replicas bool
}

var kinds = []kind{
	{name: broker.KindGoChannel, open: func(t *testing.T) *broker.Broker {
		return brokertest.Open(t, broker.Config{Kind: broker.KindGoChannel})
	}},
	{name: broker.KindNATS, open: func(t *testing.T) *broker.Broker { return brokertest.NATS(t, "brokertest") }, replicas: true},
	{name: broker.KindAMQP, open: func(t *testing.T) *broker.Broker { return brokertest.AMQP(t, "brokertest") }, replicas: true},
}

const topic = "orders.paid"

func TestEveryGroupGetsEveryEventInOrder(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			b := k.open(t)
			a, c := collect(t, b, "group-a", topic), collect(t, b, "group-b", topic)
			want := publishN(t, b, topic, 50)
			for name, got := range map[string]*collector{"group-a": a, "group-b": c} {
				ids := got.waitFor(t, len(want))
				if !slices.Equal(ids, want) {
					t.Errorf("%s: got %v; want %v", name, ids, want)
				}
			}
		})
	}
}

func TestReplicasOfAGroupShareTheEvents(t *testing.T) {
	for _, k := range kinds {
		if !k.replicas {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			b := k.open(t)
			one, two := collect(t, b, "group-r", topic), collect(t, b, "group-r", topic)
			want := publishN(t, b, topic, 100)
			deadline := time.Now().Add(20 * time.Second)
			for len(one.ids())+len(two.ids()) < len(want) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // duplicates, if any, show up
			got := append(one.ids(), two.ids()...)
			slices.Sort(got)
			sorted := slices.Sorted(slices.Values(want))
			if !slices.Equal(got, sorted) {
				t.Errorf("the replicas got %d deliveries (%d + %d); want each of the %d events once", len(got), len(one.ids()), len(two.ids()), len(want))
			}
		})
	}
}

func TestTopicsAreSeparate(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			b := k.open(t)
			paid := collect(t, b, "group-t", topic)
			created := collect(t, b, "group-t", "orders.created")
			wantCreated := publishN(t, b, "orders.created", 3)
			wantPaid := publishN(t, b, topic, 2)
			if got := created.waitFor(t, 3); !slices.Equal(got, wantCreated) {
				t.Errorf("orders.created: got %v; want %v", got, wantCreated)
			}
			if got := paid.waitFor(t, 2); !slices.Equal(got, wantPaid) {
				t.Errorf("orders.paid: got %v; want %v", got, wantPaid)
			}
		})
	}
}

func TestUnknownKindAndMissingGroup(t *testing.T) {
	if _, err := broker.New(broker.Config{Kind: "kafka"}, logger()); err == nil || !strings.Contains(err.Error(), "kafka") {
		t.Errorf("kind kafka: got %v; want an error naming it", err)
	}
	b := brokertest.Open(t, broker.Config{Kind: broker.KindGoChannel})
	if _, err := b.Subscriber(""); err == nil {
		t.Error("a subscriber without a group: got no error")
	}
}

// collector subscribes one subscriber of group to topic and records what arrives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func collect(t *testing.T, b *broker.Broker, group, topic string) *collector {
	t.Helper()
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	brokertest.RemoveQueues(b, group, topic)
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	c := &collector{}
	go func() {
		for msg := range msgs {
			c.mu.Lock()
			c.got = append(c.got, msg.UUID)
			c.mu.Unlock()
			msg.Ack()
		}
	}()
	return c
}

func (c *collector) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(c.ids()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d of %d messages", len(c.ids()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // duplicates, if any, show up
	return c.ids()
}

func publishN(t *testing.T, b *broker.Broker, topic string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%03d-%s", topic, i, randomHex())
		if err := b.Publisher().Publish(topic, message.NewMessage(ids[i], []byte(`{}`))); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	return ids
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
