// Package gochannel owns the in-process broker, the embedded default (WOLFIX_BROKER_KIND=gochannel):
// watermill's GoChannel behind a queue of its own, so that the relay's Publish never waits for the
// consumers. Events live only in the process; the queue tells the relay how much room it has
// (Room), and stopping consumers first drains it (Drain).
package gochannel

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	wgochannel "github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wolfix/orders/internal/adapters/broker"
)

// Kind is the name WOLFIX_BROKER_KIND gives the in-process broker.
const Kind = "gochannel"

// Registration registers the in-process broker; it needs no settings.
func Registration() broker.Registration {
	return broker.Registration{Kind: Kind, Open: func(_ context.Context, _ broker.Settings, logger *slog.Logger) (broker.Broker, error) {
		return New(logger), nil
	}}
}

// queueSize is how many publish calls the in-process broker holds; beyond that Publish fails
// with errQueueFull until the consumers catch up.
const queueSize = 4096

// highWater is the queue depth above which the broker tells the relay (Room) to leave events in
// the outbox: there they survive a restart and count as backlog, while in the queue they are lost
// with the process. The relay reads a batch only when the batch fits below it, so it never holds
// SQLite's write lock only to be refused.
const highWater = 256

// Broker is the in-process broker. It delivers events one at a time, in publication order, each
// to every subscriber of its topic, waiting for their acks before the next (GoChannel's
// BlockPublishUntilSubscriberAck). Publish itself only queues: on SQLite the relay publishes while
// holding the database's only write lock, and a consumer writing its dedupe row would otherwise
// wait for that lock while the relay waited for the consumer. The price: events queued or being
// handled when the process dies are not redelivered in-process. Events of a topic nobody
// subscribes to are dropped, so consumers subscribe before the relay starts. Every subscriber of
// a group gets every event: one process only.
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
	wlog := watermill.NewSlogLogger(logger)
	pubsub := wgochannel.NewGoChannel(wgochannel.Config{BlockPublishUntilSubscriberAck: true}, wlog)
	queue := newQueuedPublisher(pubsub, wlog, queueSize)
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

// Features: in order, redelivered on nack, and nothing more.
func (b *Broker) Features() broker.Features {
	return broker.Features{OrderedPerTopic: true, Redelivers: true}
}

// Drain waits until the events published so far have reached their subscribers, or ctx ends.
func (b *Broker) Drain(ctx context.Context) error { return b.queue.Drain(ctx) }

// Close stops delivering (what is still queued is dropped) and closes the pub/sub.
func (b *Broker) Close() error { return b.queue.Close() }

type groupSubscriber struct {
	message.Subscriber
}

func (groupSubscriber) Close() error { return nil }
