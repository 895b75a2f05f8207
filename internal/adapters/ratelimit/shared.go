package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

// sharedStore is the Redis store behind a breaker: after a failure Redis is left alone for one
// back-off step (exponential with jitter, cenkalti/backoff), and the step's one warning is all the
// log hears of it, however many requests arrive meanwhile.
type sharedStore struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	store   limiter.Store // built on the first answer: the library loads its scripts then
	steps   *backoff.ExponentialBackOff
	resting time.Time // Redis is not asked before this
	down    bool
}

func newSharedStore(client *redis.Client, prefix string, timeout time.Duration, log *slog.Logger) *sharedStore {
	steps := backoff.NewExponentialBackOff()
	steps.InitialInterval, steps.MaxInterval = time.Second, 30*time.Second
	return &sharedStore{client: client, prefix: prefix, timeout: timeout, log: log, steps: steps}
}

// run calls op on Redis unless it is resting; ok is false when the caller must count elsewhere.
func (s *sharedStore) run(ctx context.Context, op storeOp) (c limiter.Context, ok bool) {
	store, ok := s.ready()
	if !ok {
		return limiter.Context{}, false
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var err error
	if store == nil {
		store, err = s.connect(callCtx)
	}
	if err == nil {
		c, err = op(callCtx, store)
	}
	switch {
	case err == nil:
		s.answered()
		return c, true
	case ctx.Err() == nil: // the client going away is not Redis failing
		s.failed(err)
	}
	return limiter.Context{}, false
}

// ready returns the store (nil before the first connection) unless Redis is resting.
func (s *sharedStore) ready() (limiter.Store, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down && time.Now().Before(s.resting) {
		return nil, false
	}
	return s.store, true
}

// connect builds the library's store, which loads its Lua scripts into Redis.
func (s *sharedStore) connect(ctx context.Context) (limiter.Store, error) {
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

// failed starts the next back-off step and says so, once per step.
func (s *sharedStore) failed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down && time.Now().Before(s.resting) {
		return // another request already started this step
	}
	step := s.steps.NextBackOff()
	s.down, s.resting = true, time.Now().Add(step)
	s.log.Warn("rate limits: Redis is unreachable; counting in this process until it answers",
		"error", err, "retry_in", step)
}

// answered ends an outage, if there was one.
func (s *sharedStore) answered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.down = false
		s.steps.Reset()
		s.log.Info("rate limits: Redis answers again; counting there")
	}
}
