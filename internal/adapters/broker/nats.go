package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsDuplicateWindow is how long JetStream remembers a message id: the relay may send an event
// again after a restart, and within this window JetStream stores it once.
const natsDuplicateWindow = 10 * time.Minute

// newNATS connects to NATS JetStream. Topics contain dots, which are subject separators, and
// stream names may not: so every topic becomes the subject <prefix>.<topic> inside one stream that
// captures <prefix>.>, created here when missing. Messages carry their UUID as the JetStream
// message id. Each consumer group gets a durable queue consumer per topic.
func newNATS(cfg Config, logger watermill.LoggerAdapter) (*Broker, error) {
	// Publishing never queues while disconnected (no reconnect buffer): a publish then fails at
	// once, so what JetStream stores of a pipelined run is always a prefix of it, in order.
	conn, err := natsConnect(cfg.NATSURL, nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	prefix := orDefault(cfg.NATSSubjectPrefix, DefaultNATSSubjectPrefix)
	if err := ensureStream(conn, orDefault(cfg.NATSStream, DefaultNATSStream), prefix+".>"); err != nil {
		conn.Close()
		return nil, err
	}
	pub, err := newNATSPublisher(conn, prefix)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Broker{
		publisher: pub,
		subscribe: func(group string) (message.Subscriber, error) {
			return natsSubscriber(cfg.NATSURL, prefix, group, logger)
		},
		close: pub.Close,
	}, nil
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
func natsSubscriber(url, prefix, group string, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	conn, err := natsConnect(url)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return prefixedSubscriber{prefix: prefix, next: sub}, nil
}

// natsName makes a durable or queue name (no dots, wildcards or spaces) out of a subject.
func natsName(s string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(s)
}

// prefixedSubscriber subscribes topic t on the subject <prefix>.t.
type prefixedSubscriber struct {
	prefix string
	next   message.Subscriber
}

func (s prefixedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.next.Subscribe(ctx, s.prefix+"."+topic)
}

func (s prefixedSubscriber) Close() error { return s.next.Close() }
