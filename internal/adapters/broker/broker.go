// Package broker owns the connection to the message broker that carries integration events out
// of the service: the in-process gochannel (the embedded default), NATS JetStream, or RabbitMQ. It
// gives one publisher (for the outbox relay and the poison queue) and a subscriber per consumer
// group, so that the same consumer code runs on all three.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Kinds of broker.
const (
	KindGoChannel = "gochannel"
	KindNATS      = "nats"
	KindAMQP      = "amqp"
)

// Config chooses and addresses the broker; empty names take the defaults.
type Config struct {
	// Kind is gochannel, nats or amqp.
	Kind    string
	NATSURL string
	AMQPURL string
	// NATSStream is the JetStream stream holding every event (default WOLFIX_EVENTS).
	NATSStream string
	// NATSSubjectPrefix is put before every topic: orders.created travels on the subject
	// <prefix>.orders.created, and the stream captures <prefix>.> (default wolfix).
	NATSSubjectPrefix string
	// AMQPExchange is the durable topic exchange every event is published to, with its topic as
	// the routing key (default wolfix.events).
	AMQPExchange string
	// AMQPQueuePrefix is put before the name of every queue a consumer group declares
	// (<prefix><group>.<topic>); tests sharing a RabbitMQ set it to keep their queues apart.
	AMQPQueuePrefix string
}

// Defaults of Config.
const (
	DefaultNATSStream        = "WOLFIX_EVENTS"
	DefaultNATSSubjectPrefix = "wolfix"
	DefaultAMQPExchange      = "wolfix.events"
)

// Broker is an open connection to the broker.
type Broker struct {
	publisher message.Publisher
	subscribe func(group string) (message.Subscriber, error)
	close     func() error
	drain     func(ctx context.Context) error // nil: nothing is held in process

	mu          sync.Mutex
	subscribers []message.Subscriber
}

// New connects to the broker cfg names.
func New(cfg Config, logger *slog.Logger) (*Broker, error) {
	wlog := watermill.NewSlogLogger(logger)
	switch cfg.Kind {
	case KindGoChannel:
		return newGoChannel(wlog), nil
	case KindNATS:
		return newNATS(cfg, wlog)
	case KindAMQP:
		return newAMQP(cfg, wlog)
	default:
		return nil, fmt.Errorf("broker: unknown kind %q (want %s, %s or %s)", cfg.Kind, KindGoChannel, KindNATS, KindAMQP)
	}
}

// Publisher publishes events; Publish returns once the broker has them (stored by JetStream,
// confirmed by RabbitMQ, handed to the in-process subscribers).
func (b *Broker) Publisher() message.Publisher {
	return b.publisher
}

// Subscriber subscribes on behalf of a consumer group: every group gets every event of the topics
// it subscribes to, and the replicas of one group share them. Close closes it.
func (b *Broker) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("broker: a consumer group is required")
	}
	sub, err := b.subscribe(group)
	if err != nil {
		return nil, fmt.Errorf("broker: subscriber for %s: %w", group, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subscribers = append(b.subscribers, sub)
	return sub, nil
}

// Drain waits until the events published in process so far have reached their subscribers (the
// in-process broker holds them in a queue; the others hand them to the broker server at once), or
// ctx ends.
func (b *Broker) Drain(ctx context.Context) error {
	if b.drain == nil {
		return nil
	}
	return b.drain(ctx)
}

// Close closes the subscribers, then the connection.
func (b *Broker) Close() error {
	b.mu.Lock()
	subs := b.subscribers
	b.subscribers = nil
	b.mu.Unlock()
	var errs []error
	for _, sub := range subs {
		errs = append(errs, sub.Close())
	}
	errs = append(errs, b.close())
	return errors.Join(errs...)
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
