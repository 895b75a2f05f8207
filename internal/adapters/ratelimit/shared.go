package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/wolfix/orders/internal/adapters/outage"
)

// sharedStore is the Redis store behind an outage tracker: after a failure Redis is left alone
// for one back-off step, and the step's one log line is all the log hears of it, however many
// requests arrive meanwhile.
type sharedStore struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
	outage  *outage.Tracker

	mu    sync.Mutex
	store limiter.Store // built on the first answer: the library loads its scripts then
}

func newSharedStore(client *redis.Client, prefix string, timeout time.Duration, log *slog.Logger) *sharedStore {
	return &sharedStore{client: client, prefix: prefix, timeout: timeout, outage: outage.New(outage.Config{
		First: time.Second, Most: 30 * time.Second, Log: log,
		Failing:   "rate limits: Redis is unreachable; counting in this process until it answers",
		Recovered: "rate limits: Redis answers again; counting there"})}
}

// run calls op on Redis unless it is resting; ok is false when the caller must count elsewhere.
func (s *sharedStore) run(ctx context.Context, op storeOp) (c limiter.Context, ok bool) {
	if s.outage.Resting() > 0 {
		return limiter.Context{}, false
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	store, err := s.connected(callCtx)
	if err == nil {
		c, err = op(callCtx, store)
	}
	switch {
	case err == nil:
		s.outage.Recovered()
		return c, true
	case ctx.Err() == nil: // the client going away is not Redis failing
		s.outage.Failed(err)
	}
	return limiter.Context{}, false
}

// connected returns the library's store, building it on first use (it loads its Lua scripts).
func (s *sharedStore) connected(ctx context.Context) (limiter.Store, error) {
	s.mu.Lock()
	store := s.store
	s.mu.Unlock()
	if store != nil {
		return store, nil
	}
	if err := s.client.Ping(ctx).Err(); err != nil { // the library's own load would wait without ctx
		return nil, err
	}
	store, err := redisstore.NewStoreWithOptions(s.client, limiter.StoreOptions{Prefix: s.prefix})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		s.store = store
	}
	return s.store, nil
}
