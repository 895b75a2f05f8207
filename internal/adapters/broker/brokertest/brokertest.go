// Package brokertest owns the conformance suite of the broker port: Run asserts, against a real
// server, every promise a kind's Features make and what every broker must do, the same way for
// every kind. Each kind runs it from its own package tests, with brokers on names of the test's
// own; a new kind passes it before it is wired in. The package also holds the small helpers those
// set-ups share.
package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/app/events"
)

// Opener opens a broker on names of the test's own and closes it (and removes what it made on
// the server) when the test ends. Two brokers opened in one test do not share names.
type Opener func(t testing.TB) broker.Broker

// Run runs the conformance suite on the brokers open opens.
func Run(t *testing.T, open Opener) {
	t.Helper()
	features := open(t).Features()
	tests := []struct {
		name    string
		promise bool
		test    func(t *testing.T, open Opener)
	}{
		{"EveryGroupGetsEveryEvent", true, testEveryGroupGetsEveryEvent},
		{"TopicsAreSeparate", true, testTopicsAreSeparate},
		{"GroupIsRequired", true, testGroupIsRequired},
		{"HealthyUntilClosed", true, testHealthyUntilClosed},
		{"ReplicasShareTheGroup", features.SharedGroups, testReplicasShareTheGroup},
		{"NackedEventComesBack", features.Redelivers, testNackedEventComesBack},
		{"GroupGetsWhatWasPublishedWhileAway", features.Persistent, testGroupGetsWhatWasPublishedWhileAway},
		{"SameIDDeliveredOnce", features.DedupesByID, testSameIDDeliveredOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.promise {
				t.Skipf("not among the kind's Features %+v", features)
			}
			tc.test(t, open)
		})
	}
}

const (
	topic = events.TopicOrderPaid
	// waitFor bounds every wait for deliveries.
	waitFor = 20 * time.Second
	// settle is how long a test keeps listening after the last expected delivery, for duplicates.
	settle = 300 * time.Millisecond
)

func testEveryGroupGetsEveryEvent(t *testing.T, open Opener) {
	b := open(t)
	a, c := Collect(t, b, "group-a", topic), Collect(t, b, "group-b", topic)
	want := Publish(t, b, topic, 50)
	for name, got := range map[string]*Collector{"group-a": a, "group-b": c} {
		checkDelivered(t, b, name, got.WaitFor(t, len(want)), want)
	}
}

func testTopicsAreSeparate(t *testing.T, open Opener) {
	b := open(t)
	paid := Collect(t, b, "group-t", topic)
	created := Collect(t, b, "group-t", events.TopicOrderCreated)
	wantCreated := Publish(t, b, events.TopicOrderCreated, 3)
	wantPaid := Publish(t, b, topic, 2)
	checkDelivered(t, b, events.TopicOrderCreated, created.WaitFor(t, 3), wantCreated)
	checkDelivered(t, b, topic, paid.WaitFor(t, 2), wantPaid)
}

func testGroupIsRequired(t *testing.T, open Opener) {
	if _, err := open(t).Subscriber(""); !errors.Is(err, broker.ErrNoGroup) {
		t.Errorf("a subscriber without a group: got %v; want ErrNoGroup", err)
	}
}

func testHealthyUntilClosed(t *testing.T, open Opener) {
	b := open(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.Health(ctx); err != nil {
		t.Fatalf("open broker: Health got %v; want nil", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Health(ctx); err == nil {
		t.Error("closed broker: Health got nil; want an error")
	}
}

func testReplicasShareTheGroup(t *testing.T, open Opener) {
	b := open(t)
	one, two := Collect(t, b, "group-r", topic), Collect(t, b, "group-r", topic)
	want := Publish(t, b, topic, 100)
	deadline := time.Now().Add(waitFor)
	for len(one.IDs())+len(two.IDs()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(settle)
	got := slices.Sorted(slices.Values(append(one.IDs(), two.IDs()...)))
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("the replicas got %d deliveries (%d + %d); want each of the %d events once", len(got), len(one.IDs()), len(two.IDs()), len(want))
	}
}

func testNackedEventComesBack(t *testing.T, open Opener) {
	b := open(t)
	msgs := subscribe(t, b, "group-n", topic)
	want := Publish(t, b, topic, 1)[0]
	first := receive(t, msgs)
	first.Nack()
	again := receive(t, msgs)
	again.Ack()
	if first.UUID != want || again.UUID != want {
		t.Errorf("got %s, then %s; want %s twice", first.UUID, again.UUID, want)
	}
}

func testGroupGetsWhatWasPublishedWhileAway(t *testing.T, open Opener) {
	b := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	away, err := b.Subscriber("group-p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := away.Subscribe(ctx, topic); err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	cancel()
	if err := away.Close(); err != nil {
		t.Fatalf("close the first subscriber: %v", err)
	}
	want := Publish(t, b, topic, 10)
	back := Collect(t, b, "group-p", topic)
	checkDelivered(t, b, "the group back", back.WaitFor(t, len(want)), want)
}

func testSameIDDeliveredOnce(t *testing.T, open Opener) {
	b := open(t)
	got := Collect(t, b, "group-d", topic)
	id := UniqueName("dup")
	for range 2 {
		if err := b.Publisher().Publish(topic, message.NewMessage(id, []byte(`{}`))); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	last := Publish(t, b, topic, 1)
	checkDelivered(t, b, "group-d", got.WaitFor(t, 2), append([]string{id}, last...))
}

// checkDelivered compares the ids a subscriber got with those published, in order when the kind
// promises it.
func checkDelivered(t *testing.T, b broker.Broker, who string, got, want []string) {
	t.Helper()
	if !b.Features().OrderedPerTopic {
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v; want %v", who, got, want)
	}
}

// Collector records the ids of what one subscriber receives, acking each.
type Collector struct {
	mu  sync.Mutex
	got []string
}

// Collect subscribes a subscriber of group to topic and records what arrives until the test ends.
func Collect(t testing.TB, b broker.Broker, group, topic string) *Collector {
	t.Helper()
	msgs := subscribe(t, b, group, topic)
	c := &Collector{}
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

// IDs are the ids received so far, in arrival order.
func (c *Collector) IDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// WaitFor waits until n messages have arrived, then a little longer for duplicates, and returns
// what arrived.
func (c *Collector) WaitFor(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for len(c.IDs()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d of %d messages", waitFor, len(c.IDs()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(settle)
	return c.IDs()
}

// Publish publishes n messages with fresh ids to topic and returns the ids, in order.
func Publish(t testing.TB, b broker.Broker, topic string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = UniqueName(fmt.Sprintf("%s-%03d", topic, i))
		if err := b.Publisher().Publish(topic, message.NewMessage(ids[i], []byte(`{}`))); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	return ids
}

func subscribe(t testing.TB, b broker.Broker, group, topic string) <-chan *message.Message {
	t.Helper()
	sub, err := b.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	return msgs
}

func receive(t testing.TB, msgs <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg := <-msgs:
		return msg
	case <-time.After(waitFor):
		t.Fatalf("no message after %s", waitFor)
		return nil
	}
}

// UniqueName is prefix followed by random hex: names of a test's own on a shared server.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Logger is the logger of test brokers: warnings and errors, on stderr.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Opened stops the test when opening b failed with err, and otherwise closes b when the test ends.
func Opened[B broker.Broker](t testing.TB, b B, err error) B {
	t.Helper()
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("close broker: %v", err)
		}
	})
	return b
}
