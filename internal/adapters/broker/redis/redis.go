// Package redis owns the Redis Streams broker (WOLFIX_BROKER_KIND=redis, WOLFIX_REDIS_URL): every
// topic is a stream, <prefix>:<topic>, to which Publish appends (XADD) and returns once Redis has
// the event; each consumer group is a Redis consumer group of that stream, whose subscribers share
// its events and ack each one (XACK). An event left unacked by a subscriber that went away is
// claimed by another subscriber of its group after ClaimAfter. Redis keeps no message ids, so
// consumers drop an event sent twice by its event id, as on RabbitMQ.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// Kind is the name WOLFIX_BROKER_KIND gives Redis Streams.
const Kind = "redis"

// URLKey addresses the Redis server (required), as redis://host:port/db or rediss://….
const URLKey = "WOLFIX_REDIS_URL"

// DefaultKeyPrefix is put before every stream's key when Config.KeyPrefix is empty.
const DefaultKeyPrefix = "wolfix"

// ClaimAfter is how long an event may stay unacked by the subscriber it was delivered to before
// another subscriber of the group claims it: a consumer that died or stopped mid-event loses
// nothing, at the price of this delay.
const ClaimAfter = 30 * time.Second

// Registration registers Redis Streams.
func Registration() broker.Registration {
	return broker.Registration{Kind: Kind, Requires: []string{URLKey},
		Open: func(ctx context.Context, s broker.Settings, logger *slog.Logger) (broker.Broker, error) {
			return New(ctx, Config{URL: s.Setting(URLKey)}, logger)
		}}
}

// Config addresses the server and names the streams.
type Config struct {
	URL string
	// KeyPrefix is put before every stream's key: <prefix>:<topic> (default DefaultKeyPrefix);
	// environments or tests sharing one Redis set their own.
	KeyPrefix string
}

// Broker is a connection to Redis. The publisher and each subscriber have a client of their own
// (watermill's subscriber closes its client with itself).
type Broker struct {
	broker.Subscribers
	cfg       Config
	options   *goredis.Options
	client    *goredis.Client
	publisher message.Publisher
	logger    watermill.LoggerAdapter
}

// New connects to Redis and checks that it answers.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Broker, error) {
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
	}
	options, err := goredis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("broker: Redis URL: %w", err)
	}
	client := goredis.NewClient(options)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("broker: connect to Redis: %w", err)
	}
	wlog := telemetry.WatermillLogger(logger)
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: client}, wlog)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("broker: Redis publisher: %w", err)
	}
	return &Broker{cfg: cfg, options: options, client: client, logger: wlog,
		publisher: broker.RenamedPublisher{Publisher: pub, Rename: cfg.streamKey}}, nil
}

// Publisher appends events to their topic's stream.
func (b *Broker) Publisher() message.Publisher { return b.publisher }

// Subscriber opens a subscriber of group, a consumer of its own in the group's consumer group. A
// group subscribing a topic the first time reads its stream from the start.
func (b *Broker) Subscriber(group string) (message.Subscriber, error) {
	return b.Open(group, func(group string) (message.Subscriber, error) {
		client := goredis.NewClient(b.options)
		sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
			Client:        client,
			ConsumerGroup: group,
			OldestId:      "0",
			MaxIdleTime:   ClaimAfter,
			// each read waits at most BlockTime, so closing never waits for an idle stream
			DisableIndefiniteInitialBlock: true,
		}, b.logger)
		if err != nil {
			_ = client.Close()
			return nil, err
		}
		return broker.RenamedSubscriber{Subscriber: sub, Rename: b.cfg.streamKey}, nil
	})
}

// Health pings Redis.
func (b *Broker) Health(ctx context.Context) error {
	if err := b.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("broker: Redis: %w", err)
	}
	return nil
}

// Features: persistent, shared by a group's replicas, in order, redelivered; no dedupe.
func (b *Broker) Features() broker.Features {
	return broker.Features{Persistent: true, SharedGroups: true, OrderedPerTopic: true, Redelivers: true}
}

// Close closes the subscribers, then the publisher and its client.
func (b *Broker) Close() error {
	return errors.Join(b.CloseAll(), b.publisher.Close())
}

// StreamKey is the key of topic's stream under prefix.
func StreamKey(prefix, topic string) string { return prefix + ":" + topic }

func (c Config) streamKey(topic string) string { return StreamKey(c.KeyPrefix, topic) }
