// Package ratelimit owns the service's rate limits: rates such as "30-M" (30 a minute) counted per
// key in fixed windows by ulule/limiter, in this process's memory by default, or in Redis so that
// several replicas share one count. It also owns what an unreachable Redis means: the counts fall
// back to this process's memory (each replica then enforces the limit on its own: looser by the
// number of replicas, never off, and no request fails because of Redis), one line is logged per
// back-off step (an outage.Tracker), and Redis is tried again when the step is over.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// Off is the rate that turns a limit off.
const Off = "off"

// Defaults of Config.
const (
	DefaultPrefix  = "wolfix:ratelimit"
	DefaultTimeout = 200 * time.Millisecond
)

// Config says where the counts live.
type Config struct {
	// RedisURL (redis:// or rediss://) keeps the counts in Redis; empty keeps them in memory.
	RedisURL string
	// Prefix starts every key; empty means DefaultPrefix. Tests use their own.
	Prefix string
	// Timeout bounds one call to Redis, after which the request is counted in memory; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Log receives the lines about Redis; nil discards them.
	Log *slog.Logger
}

// Counts is where every limit keeps its counts.
type Counts struct {
	local  limiter.Store
	shared *sharedStore // nil without Redis
}

// New builds the counts. An unreachable Redis is no error (see the package doc); a URL that
// cannot be parsed is.
func New(cfg Config) (*Counts, func(), error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Counts{local: memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: cfg.Prefix,
		CleanUpInterval: limiter.DefaultCleanUpInterval})}
	if cfg.RedisURL == "" {
		return c, func() {}, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ratelimit: redis URL: %w", err)
	}
	// Fail fast: a request waits for Redis at most Timeout, never go-redis's seconds of retries.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout
	opts.MaxRetries, opts.DialerRetries, opts.ContextTimeoutEnabled = -1, 1, true
	client := redis.NewClient(opts)
	c.shared = newSharedStore(client, cfg.Prefix, cfg.Timeout, cfg.Log)
	return c, func() { _ = client.Close() }, nil
}

// Limit is one rate counted per key under its name. A nil *Limit is a limit that is off.
type Limit struct {
	name   string
	rate   limiter.Rate
	counts *Counts
}

// Limit returns the limit called name with the rate formatted as "<count>-<S|M|H|D>", or nil
// (no limit) for Off.
func (c *Counts) Limit(name, formatted string) (*Limit, error) {
	if formatted == Off {
		return nil, nil
	}
	rate, err := limiter.NewRateFromFormatted(formatted)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %s: %w", name, err)
	}
	if rate.Limit < 1 {
		return nil, errors.New("ratelimit: " + name + ": the count must be at least 1")
	}
	return &Limit{name: name, rate: rate, counts: c}, nil
}

// Decision is the state of one key's window.
type Decision struct {
	// Allowed: the event is within the limit.
	Allowed   bool
	Limit     int64
	Remaining int64
	// Reset is when the window ends and the count starts again.
	Reset time.Time
}

// RetryAfter is how long a refused client should wait, in whole seconds, never less than until
// the window ends (Reset is truncated to the second, so the window may end up to a second later).
func (d Decision) RetryAfter() time.Duration {
	wait := time.Until(d.Reset) + time.Second
	return max((wait + time.Second - 1).Truncate(time.Second), time.Second)
}

// Take counts one event under key and decides whether it is within the limit.
func (l *Limit) Take(ctx context.Context, key string) Decision {
	c := l.counts.run(ctx, func(ctx context.Context, s limiter.Store) (limiter.Context, error) {
		return s.Get(ctx, l.key(key), l.rate)
	})
	return Decision{Allowed: !c.Reached, Limit: c.Limit, Remaining: c.Remaining, Reset: time.Unix(c.Reset, 0)}
}

// Check decides whether one more event under key would be within the limit, counting nothing.
func (l *Limit) Check(ctx context.Context, key string) Decision {
	c := l.counts.run(ctx, func(ctx context.Context, s limiter.Store) (limiter.Context, error) {
		return s.Peek(ctx, l.key(key), l.rate)
	})
	return Decision{Allowed: c.Remaining > 0, Limit: c.Limit, Remaining: c.Remaining, Reset: time.Unix(c.Reset, 0)}
}

func (l *Limit) key(key string) string { return l.name + ":" + key }

// run counts in Redis when it is configured and answers, else in memory.
func (c *Counts) run(ctx context.Context, op storeOp) limiter.Context {
	if c.shared != nil {
		if lc, ok := c.shared.run(ctx, op); ok {
			return lc
		}
	}
	lc, _ := op(ctx, c.local) // the memory store never fails
	return lc
}

// storeOp is one call to a limiter store.
type storeOp func(ctx context.Context, s limiter.Store) (limiter.Context, error)
