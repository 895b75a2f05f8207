package gochannel_test

import (
	"testing"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
)

func TestGoChannelBrokerSuite(t *testing.T) {
	brokertest.Run(t, func(t testing.TB) broker.Broker {
		return brokertest.Opened(t, gochannel.New(brokertest.Logger()), nil)
	})
}
