package redis_test

import (
	"testing"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/redis"
	"github.com/wolfix/orders/internal/testenv"
)

// TestRedisBrokerSuite runs the broker suite on Redis Streams, each broker on stream keys of its
// own (deleted when the test ends).
func TestRedisBrokerSuite(t *testing.T) {
	brokertest.Run(t, func(t testing.TB) broker.Broker {
		url := testenv.RedisURL(t)
		cfg := redis.Config{URL: url, KeyPrefix: testenv.RedisKeyPrefix(t, url)}
		b, err := redis.New(t.Context(), cfg, brokertest.Logger())
		return brokertest.Opened(t, b, err)
	})
}
