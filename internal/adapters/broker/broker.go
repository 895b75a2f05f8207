// Package broker owns the broker port: what the outbox relay and the consumers need of the message
// broker that carries integration events out of the service (Broker), what a kind of broker
// promises (Features), and the registry by which the wiring names the kinds WOLFIX_BROKER_KIND may
// choose (Register, Open). Each kind is a package of its own under this one (gochannel, nats,
// amqp, redis) that passes the conformance suite in brokertest; this package names none of them.
//
// Optional capabilities, asked for by type assertion where they are used:
//   - a Publisher with Room() int (outbox.Roomer) holds events in process and tells the relay how
//     many more it takes, so the relay reads no more rows than that (on SQLite it would otherwise
//     hold the only write lock for messages it would be refused);
//   - a Publisher with PublishAsync and Flush (outbox.Pipeliner) lets the relay send a batch
//     before waiting for the broker's acks;
//   - a Broker with Drain(ctx) error (consumers' drainer) has deliveries to finish before its
//     consumers stop: the in-process queue hands over what was published, NATS lets the
//     deliveries it has begun complete.
package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Broker is an open connection to a broker.
type Broker interface {
	// Publisher publishes events; Publish returns once the broker has them (stored, confirmed, or
	// handed to the in-process subscribers: Features says which).
	Publisher() message.Publisher
	// Subscriber subscribes on behalf of a consumer group: every group gets every event of the
	// topics it subscribes to, and (with Features.SharedGroups) the replicas of one group share
	// them. The broker closes it on Close.
	Subscriber(group string) (message.Subscriber, error)
	// Health reports whether the broker can take events now.
	Health(ctx context.Context) error
	// Features says what this kind of broker promises.
	Features() Features
	// Close closes the subscribers, then the connection.
	Close() error
}

// Features is what a kind of broker promises; the conformance suite asserts each promise made and
// skips only the tests of promises not made.
type Features struct {
	// Persistent: events outlive the process that published them, and a consumer group gets the
	// events published while none of its subscribers ran (after its first subscription).
	Persistent bool
	// SharedGroups: the subscribers of one group share its events, each event going to one of
	// them (replicas of a consumer); otherwise only one process may subscribe.
	SharedGroups bool
	// DedupesByID: an event published twice with one message id (a relay restarted mid-batch) is
	// delivered once. Without it consumers rely on their own dedupe by event id.
	DedupesByID bool
	// OrderedPerTopic: one subscriber gets a topic's events in the order they were published.
	OrderedPerTopic bool
	// Redelivers: an event a subscriber nacks comes back.
	Redelivers bool
}

// MetaOrderingKey names the message metadata that carries an event's ordering key, its order's
// id: a broker that delivers several events at once still delivers the events of one key in the
// order they were published.
const MetaOrderingKey = "ordering_key"

// ErrNoGroup is returned by Subscriber without a consumer group.
var ErrNoGroup = errors.New("broker: a consumer group is required")

// Subscribers keeps the subscribers a broker opened so that closing the broker closes them; kinds
// embed it and open subscribers through Open.
type Subscribers struct {
	mu   sync.Mutex
	open []message.Subscriber
}

// Open opens a subscriber for group with open and keeps it; a group is required.
func (s *Subscribers) Open(group string, open func(group string) (message.Subscriber, error)) (message.Subscriber, error) {
	if group == "" {
		return nil, ErrNoGroup
	}
	sub, err := open(group)
	if err != nil {
		return nil, fmt.Errorf("broker: subscriber for %s: %w", group, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = append(s.open, sub)
	return sub, nil
}

// CloseAll closes every subscriber opened so far.
func (s *Subscribers) CloseAll() error {
	s.mu.Lock()
	subs := s.open
	s.open = nil
	s.mu.Unlock()
	var errs []error
	for _, sub := range subs {
		errs = append(errs, sub.Close())
	}
	return errors.Join(errs...)
}

// RenamedSubscriber subscribes each topic under the name Rename gives it: the subject, stream or
// key a kind keeps the topic's events in.
type RenamedSubscriber struct {
	message.Subscriber
	Rename func(topic string) string
}

// Subscribe subscribes Rename(topic).
func (s RenamedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.Subscriber.Subscribe(ctx, s.Rename(topic))
}

// RenamedPublisher publishes each topic under the name Rename gives it.
type RenamedPublisher struct {
	message.Publisher
	Rename func(topic string) string
}

// Publish publishes to Rename(topic).
func (p RenamedPublisher) Publish(topic string, msgs ...*message.Message) error {
	return p.Publisher.Publish(p.Rename(topic), msgs...)
}
