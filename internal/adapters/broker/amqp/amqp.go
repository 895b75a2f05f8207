// Package amqp owns the RabbitMQ broker (WOLFIX_BROKER_KIND=amqp): every event goes to one durable
// topic exchange with its topic as the routing key, persistent, and Publish waits for RabbitMQ's
// confirm; each consumer group gets a durable queue per topic.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// Kind is the name WOLFIX_BROKER_KIND gives RabbitMQ.
const Kind = "amqp"

// The settings RabbitMQ reads.
const (
	// URLKey addresses the RabbitMQ server (required).
	URLKey = "WOLFIX_AMQP_URL"
	// ExchangeKey names the exchange every event is published to (default DefaultExchange).
	ExchangeKey = "WOLFIX_AMQP_EXCHANGE"
)

// DefaultExchange is the exchange when none is set.
const DefaultExchange = "wolfix.events"

// Registration registers RabbitMQ.
func Registration() broker.Registration {
	return broker.Registration{Kind: Kind, Requires: []string{URLKey},
		Open: func(_ context.Context, s broker.Settings, logger *slog.Logger) (broker.Broker, error) {
			return New(Config{URL: s.Setting(URLKey), Exchange: s.Setting(ExchangeKey)}, logger)
		}}
}

// Config addresses the server and names the exchange; an empty exchange takes the default.
type Config struct {
	URL      string
	Exchange string
	// QueuePrefix is put before the name of every queue a consumer group declares
	// (<prefix><group>.<topic>); tests sharing a RabbitMQ set it to keep their queues apart.
	QueuePrefix string
}

// publishChannels is how many confirm-mode channels the publisher keeps open.
const publishChannels = 4

// Broker is a connection to RabbitMQ. Each consumer group gets a durable queue per topic,
// <group>.<topic> (after Config.QueuePrefix), bound to the exchange by that topic. An event
// published before any queue is bound to its topic is dropped by RabbitMQ, so consumers declare
// their queues (subscribe) before the relay first runs.
type Broker struct {
	broker.Subscribers
	cfg       Config
	publisher *wamqp.Publisher
	logger    watermill.LoggerAdapter

	mu     sync.Mutex
	queues map[string]bool // declared by the subscribers
}

// New connects to RabbitMQ.
func New(cfg Config, logger *slog.Logger) (*Broker, error) {
	if cfg.Exchange == "" {
		cfg.Exchange = DefaultExchange
	}
	wlog := telemetry.WatermillLogger(logger)
	topology := cfg.topology()
	topology.Publish.ConfirmDelivery = true
	topology.Publish.ChannelPoolSize = publishChannels
	pub, err := wamqp.NewPublisher(topology, wlog)
	if err != nil {
		return nil, fmt.Errorf("broker: RabbitMQ publisher: %w", err)
	}
	return &Broker{cfg: cfg, publisher: pub, logger: wlog, queues: map[string]bool{}}, nil
}

// Publisher publishes persistent messages and waits for RabbitMQ's confirms.
func (b *Broker) Publisher() message.Publisher { return b.publisher }

// Subscriber opens a subscriber of group: its queues are <prefix><group>.<topic>.
func (b *Broker) Subscriber(group string) (message.Subscriber, error) {
	return b.Open(group, func(group string) (message.Subscriber, error) {
		queues := b.cfg.topology()
		queues.Queue.GenerateName = func(topic string) string { return b.declare(b.cfg.QueuePrefix + group + "." + topic) }
		return wamqp.NewSubscriber(queues, b.logger)
	})
}

// Queues are the durable queues this broker's subscribers declared; RabbitMQ keeps them after
// Close, so a test that made its own deletes them.
func (b *Broker) Queues() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.queues))
}

func (b *Broker) declare(queue string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queues[queue] = true
	return queue
}

// Health fails once the broker is closed, or while RabbitMQ does not take a connection (a new one,
// closed at once: watermill's own connection state cannot be read safely from another goroutine).
func (b *Broker) Health(ctx context.Context) error {
	if b.publisher.Closed() {
		return errors.New("broker: closed")
	}
	conn, err := amqp091.DialConfig(b.cfg.URL, amqp091.Config{Dial: func(network, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}})
	if err != nil {
		return fmt.Errorf("broker: RabbitMQ: %w", err)
	}
	return conn.Close()
}

// Features: persistent, shared by a group's replicas, in order, redelivered; no dedupe.
func (b *Broker) Features() broker.Features {
	return broker.Features{Persistent: true, SharedGroups: true, OrderedPerTopic: true, Redelivers: true}
}

// Close closes the subscribers, then the publisher's connection.
func (b *Broker) Close() error {
	return errors.Join(b.CloseAll(), b.publisher.Close())
}

// topology is the durable topic-exchange configuration shared by publisher and subscribers.
func (c Config) topology() wamqp.Config {
	t := wamqp.NewDurableTopicConfig(c.URL, c.Exchange, "")
	t.Exchange.Durable = true
	return t
}
