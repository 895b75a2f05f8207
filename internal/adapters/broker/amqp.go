package broker

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
)

// amqpPublishChannels is how many confirm-mode channels the publisher keeps open.
const amqpPublishChannels = 4

// newAMQP connects to RabbitMQ. Every event goes to one durable topic exchange with its topic as
// the routing key, persistent, and Publish waits for the broker's confirm. Each consumer group
// gets a durable queue per topic, <group>.<topic> (after Config.AMQPQueuePrefix), bound to the exchange by that topic. An event
// published before any queue is bound to its topic is dropped by RabbitMQ, so consumers declare
// their queues (subscribe) before the relay first runs.
func newAMQP(cfg Config, logger watermill.LoggerAdapter) (*Broker, error) {
	topology := amqpTopology(cfg)
	topology.Publish.ConfirmDelivery = true
	topology.Publish.ChannelPoolSize = amqpPublishChannels
	pub, err := wamqp.NewPublisher(topology, logger)
	if err != nil {
		return nil, fmt.Errorf("broker: RabbitMQ publisher: %w", err)
	}
	return &Broker{
		publisher: pub,
		subscribe: func(group string) (message.Subscriber, error) {
			queues := amqpTopology(cfg)
			queues.Queue.GenerateName = func(topic string) string { return cfg.AMQPQueuePrefix + group + "." + topic }
			return wamqp.NewSubscriber(queues, logger)
		},
		close: pub.Close,
	}, nil
}

// amqpTopology is the durable topic-exchange configuration shared by publisher and subscribers.
func amqpTopology(cfg Config) wamqp.Config {
	c := wamqp.NewDurableTopicConfig(cfg.AMQPURL, orDefault(cfg.AMQPExchange, DefaultAMQPExchange), "")
	c.Exchange.Durable = true
	return c
}
