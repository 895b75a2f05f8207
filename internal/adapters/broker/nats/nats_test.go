package nats_test

import (
	"testing"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/natstest"
)

func TestNATSBrokerSuite(t *testing.T) {
	brokertest.Run(t, func(t testing.TB) broker.Broker { return natstest.Open(t, "brokertest") })
}
