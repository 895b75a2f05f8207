// Package amqptest owns the RabbitMQ broker set-up tests use: an exchange and queue names of the
// test's own, deleted when the test ends.
package amqptest

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/wolfix/orders/internal/adapters/broker/amqp"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/testenv"
)

// Open opens a broker on an exchange and queue names of the test's own, named after prefix (a
// word: no dots or spaces). When the test ends the broker is closed, then the queues its
// subscribers declared and the exchange are deleted.
func Open(t testing.TB, prefix string) *amqp.Broker {
	t.Helper()
	url := testenv.AMQPURL(t)
	suffix := brokertest.UniqueName("")
	cfg := amqp.Config{URL: url, Exchange: "wolfix." + prefix + "." + suffix, QueuePrefix: prefix + "-" + suffix + "."}
	var brk *amqp.Broker
	t.Cleanup(func() { // registered first: runs after Close
		if brk != nil {
			remove(t, url, cfg.Exchange, brk.Queues())
		}
	})
	brk, err := amqp.New(cfg, brokertest.Logger())
	return brokertest.Opened(t, brk, err)
}

// remove deletes the queues, then the exchange.
func remove(t testing.TB, url, exchange string, queues []string) {
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
	for _, queue := range queues {
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			t.Errorf("cleanup: delete queue %s: %v", queue, err)
			return // the server has closed the channel
		}
	}
	if err := ch.ExchangeDelete(exchange, false, false); err != nil {
		t.Errorf("cleanup: delete exchange %s: %v", exchange, err)
	}
}
