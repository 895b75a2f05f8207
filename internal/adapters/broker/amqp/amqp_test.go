package amqp_test

import (
	"testing"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/amqptest"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
)

func TestRabbitMQBrokerSuite(t *testing.T) {
	brokertest.Run(t, func(t testing.TB) broker.Broker { return amqptest.Open(t, "brokertest") })
}
