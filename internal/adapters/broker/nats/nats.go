// Package nats owns the NATS JetStream broker (WOLFIX_BROKER_KIND=nats): every topic becomes a
// subject of one stream, messages carry their id as the JetStream message id (so a relay that
// sends an event again within natsDuplicateWindow has it stored once), each consumer group gets a
// durable queue consumer per topic, and the relay may pipeline its batches (PublishAsync, Flush).
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// Kind is the name WOLFIX_BROKER_KIND gives NATS JetStream.
const Kind = "nats"

// The settings NATS reads.
const (
	// URLKey addresses the NATS server (required).
	URLKey = "WOLFIX_NATS_URL"
	// StreamKey names the JetStream stream holding every event (default DefaultStream).
	StreamKey = "WOLFIX_NATS_STREAM"
	// SubjectPrefixKey is put before every topic: orders.created travels on the subject
	// <prefix>.orders.created, and the stream captures <prefix>.> (default DefaultSubjectPrefix).
	SubjectPrefixKey = "WOLFIX_NATS_SUBJECT_PREFIX"
)

// Defaults of Config.
const (
	DefaultStream        = "WOLFIX_EVENTS"
	DefaultSubjectPrefix = "wolfix"
)

// Registration registers NATS JetStream.
func Registration() broker.Registration {
	return broker.Registration{Kind: Kind, Requires: []string{URLKey},
		Open: func(_ context.Context, s broker.Settings, logger *slog.Logger) (broker.Broker, error) {
			return New(Config{URL: s.Setting(URLKey), Stream: s.Setting(StreamKey), SubjectPrefix: s.Setting(SubjectPrefixKey)}, logger)
		}}
}

// Config addresses the server and names the stream; empty names take the defaults.
type Config struct {
	URL           string
	Stream        string
	SubjectPrefix string
}

// natsDuplicateWindow is how long JetStream remembers a message id: the relay may send an event
// again after a restart, and within this window JetStream stores it once.
const natsDuplicateWindow = 10 * time.Minute

// Broker is a connection to NATS JetStream. Topics contain dots, which are subject separators,
// and stream names may not: so every topic becomes the subject <prefix>.<topic> inside one stream
// that captures <prefix>.>, created by New when missing. Each consumer group gets a durable queue
// consumer per topic, on a connection of its own.
type Broker struct {
	broker.Subscribers
	cfg       Config
	publisher *natsPublisher
	logger    watermill.LoggerAdapter

	mu    sync.Mutex
	conns []*nats.Conn // the subscriber groups' connections, for Drain
}

// New connects to NATS JetStream and creates the stream when it is missing.
func New(cfg Config, logger *slog.Logger) (*Broker, error) {
	cfg.Stream = orDefault(cfg.Stream, DefaultStream)
	cfg.SubjectPrefix = orDefault(cfg.SubjectPrefix, DefaultSubjectPrefix)
	// Publishing never queues while disconnected (no reconnect buffer): a publish then fails at
	// once, so what JetStream stores of a pipelined run is always a prefix of it, in order.
	conn, err := natsConnect(cfg.URL, nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	if err := ensureStream(conn, cfg.Stream, cfg.SubjectPrefix+".>"); err != nil {
		conn.Close()
		return nil, err
	}
	pub, err := newNATSPublisher(conn, cfg.SubjectPrefix)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Broker{cfg: cfg, publisher: pub, logger: telemetry.WatermillLogger(logger)}, nil
}

// Publisher publishes to JetStream; it pipelines (PublishAsync, Flush).
func (b *Broker) Publisher() message.Publisher { return b.publisher }

// Subscriber opens a subscriber of group on a connection of its own.
func (b *Broker) Subscriber(group string) (message.Subscriber, error) {
	return b.Open(group, func(group string) (message.Subscriber, error) {
		sub, conn, err := natsSubscriber(b.cfg.URL, b.cfg.SubjectPrefix, group, b.logger)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.conns = append(b.conns, conn)
		b.mu.Unlock()
		return sub, nil
	})
}

// Drain lets every subscriber connection finish the deliveries it has begun, then closes it.
// Stopping consumers calls it while their router still runs: watermill-nats closes a
// subscription's channel as soon as its context ends, while a delivery begun before the
// unsubscribe may still be sending on it (a data race the -race build reports, and a panic when
// the send wins). Drained first, no delivery is left to send.
func (b *Broker) Drain(ctx context.Context) error {
	b.mu.Lock()
	conns := slices.Clone(b.conns)
	b.mu.Unlock()
	for _, c := range conns {
		if err := c.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("broker: drain NATS subscriber: %w", err)
		}
	}
	for _, c := range conns {
		for !c.IsClosed() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(drainPoll):
			}
		}
	}
	return nil
}

// drainPoll is how often Drain looks whether a drained connection has closed.
const drainPoll = 5 * time.Millisecond

// Health fails while the publisher's connection is down or its stream is gone.
func (b *Broker) Health(ctx context.Context) error {
	if _, err := b.publisher.js.StreamInfo(b.cfg.Stream, nats.Context(ctx)); err != nil {
		return fmt.Errorf("broker: JetStream stream %s: %w", b.cfg.Stream, err)
	}
	return nil
}

// Features: persistent, shared by a group's replicas, deduplicated by message id within
// natsDuplicateWindow, in order, redelivered.
func (b *Broker) Features() broker.Features {
	return broker.Features{Persistent: true, SharedGroups: true, DedupesByID: true, OrderedPerTopic: true, Redelivers: true}
}

// Close closes the subscribers, then waits for the messages in flight and closes the connection.
func (b *Broker) Close() error {
	return errors.Join(b.CloseAll(), b.publisher.Close())
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

func ensureStream(conn *nats.Conn, name, subject string) error {
	js, err := conn.JetStream()
	if err != nil {
		return fmt.Errorf("broker: JetStream: %w", err)
	}
	_, err = js.StreamInfo(name)
	if errors.Is(err, nats.ErrStreamNotFound) {
		_, err = js.AddStream(&nats.StreamConfig{
			Name: name, Subjects: []string{subject}, Storage: nats.FileStorage, Duplicates: natsDuplicateWindow,
		})
	}
	if err != nil {
		return fmt.Errorf("broker: JetStream stream %s: %w", name, err)
	}
	return nil
}

// natsConnect opens a connection that reconnects for as long as it takes.
func natsConnect(url string, opts ...nats.Option) (*nats.Conn, error) {
	conn, err := nats.Connect(url, append([]nats.Option{nats.Name("wolfix"), nats.MaxReconnects(-1)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect to NATS: %w", err)
	}
	return conn, nil
}

// natsSubscriber opens the group's own connection: watermill's NATS subscriber drains its
// connection when it closes.
func natsSubscriber(url, prefix, group string, logger watermill.LoggerAdapter) (message.Subscriber, *nats.Conn, error) {
	conn, err := natsConnect(url)
	if err != nil {
		return nil, nil, err
	}
	durable := func(_, subject string) string { return natsName(group + "_" + subject) }
	sub, err := wnats.NewSubscriberWithNatsConn(conn, wnats.SubscriberSubscriptionConfig{
		Unmarshaler:      &wnats.NATSMarshaler{},
		QueueGroupPrefix: group,
		SubjectCalculator: func(_, subject string) *wnats.SubjectDetail {
			return &wnats.SubjectDetail{Primary: subject, QueueGroup: durable("", subject)}
		},
		JetStream: wnats.JetStreamConfig{
			DurableCalculator: durable,
			AckAsync:          true,
			SubscribeOptions:  []nats.SubOpt{nats.ManualAck(), nats.AckExplicit(), nats.DeliverAll()},
		},
	}, logger)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return broker.RenamedSubscriber{Subscriber: sub, Rename: func(topic string) string { return prefix + "." + topic }}, conn, nil
}

// natsName makes a durable or queue name (no dots, wildcards or spaces) out of a subject.
func natsName(s string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(s)
}
