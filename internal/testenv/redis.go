package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is used when WOLFIX_TEST_REDIS_URL is not set.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL returns the URL of a running Redis (WOLFIX_TEST_REDIS_URL, else the local one).
func RedisURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "Redis", "WOLFIX_TEST_REDIS_URL", DefaultRedisURL,
		"start it: redis-server --daemonize yes --bind 127.0.0.1")
}

// RedisKeyPrefix returns a key prefix no other test uses, and deletes every key under it when the
// test ends, so tests share one Redis without seeing each other's keys.
func RedisKeyPrefix(t testing.TB, redisURL string) string {
	t.Helper()
	prefix := "wolfix-test-" + randomSuffix()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("parse Redis URL: %v", err)
	}
	t.Cleanup(func() {
		client := redis.NewClient(opts)
		defer func() { _ = client.Close() }()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			_ = client.Del(ctx, iter.Val()).Err()
		}
	})
	return prefix
}
