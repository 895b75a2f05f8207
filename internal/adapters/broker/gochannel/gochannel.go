// Package gochannel owns the in-process broker, the embedded default (WOLFIX_BROKER_KIND=gochannel):
// watermill's GoChannel behind a queue of its own, so that the relay's Publish never waits for the
// consumers. Events live only in the process; the queue tells the relay how much room it has
// (Room), and stopping consumers first drains it (Drain).
package gochannel

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	wgochannel "github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// Kind is the name WOLFIX_BROKER_KIND gives the in-process broker.
const Kind = "gochannel"

// Registration registers the in-process broker; it needs no settings.
func Registration() broker.Registration {
	return broker.Registration{Kind: Kind, Open: func(_ context.Context, _ broker.Settings, logger *slog.Logger) (broker.Broker, error) {
		return New(logger), nil
	}}
}

// queueSize is how many events the in-process broker holds; beyond that Publish fails
// with errQueueFull until the consumers catch up.
const queueSize = 4096

// highWater is the queue depth above which the broker tells the relay (Room) to leave events in
// the outbox: there they survive a restart and count as backlog, while in the queue they are lost
// with the process. The relay reads a batch only when the batch fits below it, so it never holds
// SQLite's write lock only to be refused.
const highWater = 256

// deliveryLanes is how many events the in-process broker delivers at once. One at a time, each
// consumer's writes (its dedupe row, fulfillment's order update) waited behind the API's requests
// for a database connection: under 32 customers on Postgres the consumers handled about 25 events
// a second while checkout wrote 550, and the backlog grew for as long as the load lasted. With 16
// they handled about 300; with 64, whose claims the reaction log writes together
// (sqlstore.ReactionLog), they kept within a hundred events of checkout.
const deliveryLanes = 64

// laneTopic is the pub/sub topic that carries lane's share of topic.
func laneTopic(topic string, lane int) string { return topic + "#" + strconv.Itoa(lane) }

// Broker is the in-process broker. It delivers up to deliveryLanes events at once, each to every
// subscriber of its topic, each lane waiting for its event's acks before taking the next
// (GoChannel's BlockPublishUntilSubscriberAck). The events of one order share a lane and arrive
// in publication order; those of different orders may pass one another. Publish itself only
// queues: on SQLite the relay publishes while holding the database's only write lock, and a
// consumer writing its dedupe row would otherwise wait for that lock while the relay waited for
// the consumer. The price: events queued or being handled when the process dies are not
// redelivered in-process. Events of a topic nobody subscribes to are dropped, so consumers
// subscribe before the relay starts. Every subscriber of a group gets every event: one process
// only.
//
// A full queue refuses at once rather than wait: a waiting relay would keep SQLite's write lock,
// which the consumers that drain the queue need for their dedupe rows. Refused, the relay rolls
// its read back (releasing the lock) and tries again later — backpressure without a deadlock.
type Broker struct {
	pubsub *wgochannel.GoChannel
	queue  *queuedPublisher
}

// New opens an in-process broker.
func New(logger *slog.Logger) *Broker {
	wlog := telemetry.WatermillLogger(logger)
	pubsub := wgochannel.NewGoChannel(wgochannel.Config{BlockPublishUntilSubscriberAck: true}, wlog)
	queue := newQueuedPublisher(pubsub, wlog, queueSize, deliveryLanes)
	queue.highWater = highWater
	return &Broker{pubsub: pubsub, queue: queue}
}

// Publisher queues events; it has Room and fails at once when the queue is full.
func (b *Broker) Publisher() message.Publisher { return b.queue }

// Subscriber is the group's view of the shared pub/sub: closing it (as a router does on its way
// out) ends its subscriptions through their contexts but leaves the pub/sub open for the others.
func (b *Broker) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, broker.ErrNoGroup
	}
	return groupSubscriber{b.pubsub}, nil
}

// Health fails once the broker is closed.
func (b *Broker) Health(context.Context) error {
	if b.queue.closed() {
		return errBrokerClosed
	}
	return nil
}

// Features: redelivered on nack, and nothing more (in order per order, not per topic).
func (b *Broker) Features() broker.Features {
	return broker.Features{Redelivers: true}
}

// Drain waits until the events published so far have reached their subscribers, or ctx ends.
func (b *Broker) Drain(ctx context.Context) error { return b.queue.Drain(ctx) }

// Close stops delivering (what is still queued is dropped) and closes the pub/sub.
func (b *Broker) Close() error { return b.queue.Close() }

// groupSubscriber subscribes to a topic's lanes as one stream.
type groupSubscriber struct {
	pubsub *wgochannel.GoChannel
}

// Subscribe merges the subscriptions to every lane of topic; the stream ends when ctx ends or the
// pub/sub closes.
func (s groupSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ctx, cancel := context.WithCancel(ctx)
	merged := make(chan *message.Message)
	var forwarding sync.WaitGroup
	for lane := range deliveryLanes {
		in, err := s.pubsub.Subscribe(ctx, laneTopic(topic, lane))
		if err != nil {
			cancel() // ends the lanes subscribed so far
			return nil, err
		}
		forwarding.Go(func() { forward(ctx, in, merged) })
	}
	go func() { forwarding.Wait(); cancel(); close(merged) }()
	return merged, nil
}

// forward passes what arrives on in to out until in closes. A message out no longer takes once
// ctx ended is left unacked: GoChannel stops waiting for it as the subscription closes.
func forward(ctx context.Context, in <-chan *message.Message, out chan<- *message.Message) {
	for msg := range in {
		select {
		case out <- msg:
		case <-ctx.Done():
		}
	}
}

// Close leaves the pub/sub open for the other groups; the subscriptions end with their contexts.
func (groupSubscriber) Close() error { return nil }
