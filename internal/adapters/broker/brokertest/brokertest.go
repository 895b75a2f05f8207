// Package brokertest owns the private broker set-ups tests use: a broker on NATS JetStream or
// RabbitMQ names of the test's own, removed when the test ends.
package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/testenv"
)

// NATS opens a broker on a JetStream stream and subjects of the test's own, named after prefix (a
// word: no dots or spaces). When the test ends the broker is closed, then the stream is deleted,
// and its consumers with it.
func NATS(t testing.TB, prefix string) *broker.Broker {
	t.Helper()
	url := testenv.NATSURL(t)
	name := prefix + randomHex()
	cfg := broker.Config{Kind: broker.KindNATS, NATSURL: url, NATSStream: strings.ToUpper(name), NATSSubjectPrefix: name}
	t.Cleanup(func() { deleteStream(t, url, cfg.NATSStream) })
	return Open(t, cfg)
}

// AMQP opens a broker on an exchange and queue names of the test's own, named after prefix (a
// word: no dots or spaces). When the test ends the broker is closed, then the exchange is deleted
// with the queues named to RemoveQueues.
func AMQP(t testing.TB, prefix string) *broker.Broker {
	t.Helper()
	url := testenv.AMQPURL(t)
	suffix := randomHex()
	cfg := broker.Config{Kind: broker.KindAMQP, AMQPURL: url, AMQPExchange: "wolfix." + prefix + "." + suffix,
		AMQPQueuePrefix: prefix + "-" + suffix + "."}
	names := &amqpNames{queues: map[string]bool{}}
	var b *broker.Broker
	t.Cleanup(func() { // registered before the broker's: runs once it is closed
		amqpBrokers.Delete(b)
		names.remove(t, url, cfg.AMQPExchange)
	})
	b = Open(t, cfg)
	names.prefix = cfg.AMQPQueuePrefix
	amqpBrokers.Store(b, names)
	return b
}

// RemoveQueues has the queues that group declares on b for topics (RabbitMQ keeps them: they are
// durable) deleted with b's exchange when the test ends. For a broker AMQP did not open it does
// nothing.
func RemoveQueues(b *broker.Broker, group string, topics ...string) {
	v, ok := amqpBrokers.Load(b)
	if !ok {
		return
	}
	names := v.(*amqpNames)
	names.mu.Lock()
	defer names.mu.Unlock()
	for _, topic := range topics {
		names.queues[names.prefix+group+"."+topic] = true
	}
}

// amqpBrokers maps the brokers AMQP opened, until their test ends, to their names.
var amqpBrokers sync.Map

// amqpNames are the queues to delete with a test's exchange.
type amqpNames struct {
	prefix string

	mu     sync.Mutex
	queues map[string]bool
}

// remove deletes the queues, then the exchange.
func (n *amqpNames) remove(t testing.TB, url, exchange string) {
	conn, err := amqp091.Dial(url)
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for queue := range n.queues {
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			t.Errorf("cleanup: delete queue %s: %v", queue, err)
			return // the server has closed the channel
		}
	}
	if err := ch.ExchangeDelete(exchange, false, false); err != nil {
		t.Errorf("cleanup: delete exchange %s: %v", exchange, err)
	}
}

func deleteStream(t testing.TB, url, stream string) {
	conn, err := nats.Connect(url)
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err == nil {
		err = js.DeleteStream(stream)
	}
	if err != nil {
		t.Errorf("cleanup: delete stream %s: %v", stream, err)
	}
}

// Open opens the broker cfg names (the in-process one, say, which leaves nothing behind) and closes
// it when the test ends.
func Open(t testing.TB, cfg broker.Config) *broker.Broker {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := broker.New(cfg, logger)
	if err != nil {
		t.Fatalf("broker %s: %v", cfg.Kind, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("close broker: %v", err)
		}
	})
	return b
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
