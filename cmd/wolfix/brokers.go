package main

import (
	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/amqp"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
	"github.com/wolfix/orders/internal/adapters/broker/nats"
	"github.com/wolfix/orders/internal/adapters/broker/redis"
)

// registerBrokers registers the kinds of broker WOLFIX_BROKER_KIND may name, before the
// configuration is read and validated against them. A new kind is a package under
// internal/adapters/broker that passes brokertest.Run, and one line here (docs/extending.md).
func registerBrokers() {
	broker.Register(gochannel.Registration())
	broker.Register(nats.Registration())
	broker.Register(amqp.Registration())
	broker.Register(redis.Registration())
}
