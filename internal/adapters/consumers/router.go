// Package consumers owns the delivery of integration events to the service's own reactions
// (app.Reaction: notify, fulfil): a watermill router that decodes each message with the app's
// event contract, runs the reaction with retries behind a shared exponential back-off (a failing
// dependency is waited out and logged once per back-off step) and a poison topic for events that
// keep failing on their own, and runs each event once per consumer (Inbox, over an
// app.ReactionLog such as sqlstore's table consumed_events). It also holds LogNotifier, the
// default app.Notifier. Each delivery runs in a span joined to the trace its message metadata
// carries (the request that wrote the event). It knows no database.
package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/cenkalti/backoff/v5"

	"github.com/wolfix/orders/internal/adapters/outage"
	"github.com/wolfix/orders/internal/adapters/telemetry"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/events"
)

// Handler acts on one event. Returning an error retries it. A failing dependency (a
// fault.KindUnavailable error, a lost connection) is retried until it answers; for any other error,
// when the retries are spent the event goes to the poison topic and the consumer moves on.
type Handler func(ctx context.Context, ev events.Envelope) error

// Subscribers opens a subscriber for a consumer group (broker.Broker does).
type Subscribers interface {
	Subscriber(group string) (message.Subscriber, error)
}

// RouterConfig tunes a Router; zero values take the defaults.
type RouterConfig struct {
	// Retries is how many times an event that fails on its own (not for a failing dependency) is
	// tried again before it is poisoned (default 3).
	Retries int
	// RetryInterval is the first step of the back-off after a failure; each further failure
	// doubles it, with jitter, up to MaxRetryInterval (defaults 200ms and 30s).
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
	// PoisonTopic receives the events that failed every try, with the reason in their metadata
	// (default events.poison).
	PoisonTopic string
}

// DefaultPoisonTopic is where events go when no RouterConfig.PoisonTopic is set.
const DefaultPoisonTopic = "events.poison"

func (c RouterConfig) withDefaults() RouterConfig {
	if c.Retries <= 0 {
		c.Retries = 3
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 200 * time.Millisecond
	}
	if c.MaxRetryInterval <= 0 {
		c.MaxRetryInterval = 30 * time.Second
	}
	if c.PoisonTopic == "" {
		c.PoisonTopic = DefaultPoisonTopic
	}
	return c
}

// Router runs the consumers' handlers.
type Router struct {
	router      *message.Router
	subscribers Subscribers
	groups      map[string]message.Subscriber
	inbox       *Inbox
	logger      *slog.Logger
	pause       *outage.Tracker // shared by every handler
	// probe is held by the one delivery that tries while the dependency is down.
	probe   chan struct{}
	retries int
	// heldFirst and heldMost bound the waits of a delivery whose event another one holds.
	heldFirst, heldMost time.Duration
}

// NewRouter builds a router whose consumers subscribe through subscribers, publish poisoned
// events with poison, and remember handled events in inbox.
func NewRouter(subscribers Subscribers, poison message.Publisher, inbox *Inbox, logger *slog.Logger, cfg RouterConfig) (*Router, error) {
	cfg = cfg.withDefaults()
	wlog := telemetry.WatermillLogger(logger)
	router, err := message.NewRouter(message.RouterConfig{}, wlog)
	if err != nil {
		return nil, fmt.Errorf("consumers: router: %w", err)
	}
	poisonQueue, err := middleware.PoisonQueueWithFilter(poison, cfg.PoisonTopic, func(err error) bool {
		if errors.Is(err, errInProgress) {
			return false // another replica holds the event; let the broker bring it back
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false // the consumer is stopping, not the event failing: the broker redelivers it
		}
		logger.Error("consumers: event failed every try; moved to the poison topic", "topic", cfg.PoisonTopic, "err", err)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("consumers: poison queue: %w", err)
	}
	r := &Router{router: router, subscribers: subscribers, groups: map[string]message.Subscriber{}, inbox: inbox,
		logger: logger, retries: cfg.Retries, pause: outage.New(outage.Config{First: cfg.RetryInterval,
			Most: cfg.MaxRetryInterval, Log: logger, Recovered: "consumers: handling events works again",
			Failing: "consumers: handling events fails; every consumer waits before its next try"}),
		heldFirst: cfg.RetryInterval, heldMost: heldLongestWait, probe: make(chan struct{}, 1)}
	router.AddMiddleware(traceHandling, poisonQueue, r.retrying, middleware.Recoverer)
	return r, nil
}

// retrying runs a handler until it succeeds, each try after the shared pause. A failing
// dependency is waited out for as long as it fails; any other failure is tried Retries more times,
// then returned (to the poison topic). An event that another delivery holds is waited for in
// place, with its own growing waits (after a crash, until the dead claim's lease runs out). A
// stopping consumer returns at once.
func (r *Router) retrying(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		var held *backoff.ExponentialBackOff
		for failures := 0; ; {
			if err := sleep(ctx, r.pause.Resting()); err != nil {
				return nil, err
			}
			end, ok, err := r.tryTurn(ctx)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue // another delivery tried meanwhile, and failed: wait out its step
			}
			out, err := h(msg)
			end()
			switch {
			case err == nil:
				r.pause.Recovered()
				return out, nil
			case errors.Is(err, context.Canceled):
				return nil, err
			case errors.Is(err, errInProgress):
				if held == nil {
					held = backoff.NewExponentialBackOff()
					held.InitialInterval, held.MaxInterval = r.heldFirst, r.heldMost
				}
				if err := sleep(ctx, held.NextBackOff()); err != nil {
					return nil, err
				}
				continue
			}
			r.pause.Failed(err, "handler", message.HandlerNameFromCtx(ctx), "dependency_down", dependencyDown(err))
			if !dependencyDown(err) {
				if failures++; failures > r.retries {
					return nil, err
				}
			}
		}
	}
}

// tryTurn lets a delivery try its handler. While the dependency is down, the deliveries under way
// (several at once on a broker with lanes) take turns, so that each back-off step costs one try
// of one event, not one of each: ok is false when the step another delivery's failed try began
// is still running. end gives the turn back.
func (r *Router) tryTurn(ctx context.Context) (end func(), ok bool, err error) {
	if !r.pause.Down() {
		return func() {}, true, nil
	}
	select {
	case r.probe <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	end = func() { <-r.probe }
	if r.pause.Resting() > 0 {
		end()
		return nil, false, nil
	}
	return end, true, nil
}

// Handle makes consumer (its consumer group and its name in the dedupe table) handle the events
// of topic with h, each event id once. Call it before Run.
func (r *Router) Handle(consumer, topic string, h Handler) error {
	return r.React(app.Reaction{Consumer: consumer, Topic: topic, Handle: h})
}

// handle is Handle for a reaction that may skip some events: those it skips are acked without
// being recorded in the inbox.
func (r *Router) handle(re app.Reaction) error {
	consumer := re.Consumer
	sub, err := r.subscriber(consumer)
	if err != nil {
		return err
	}
	r.router.AddConsumerHandler(consumer+"@"+re.Topic, re.Topic, sub, func(msg *message.Message) error {
		ev, err := events.Decode(msg.Payload)
		if err != nil {
			return fmt.Errorf("consumers: %s: message %s: %w", consumer, msg.UUID, err)
		}
		if re.Skips != nil && re.Skips(ev) {
			return nil
		}
		return r.inbox.Once(msg.Context(), consumer, ev.ID, func(ctx context.Context) error { return re.Handle(ctx, ev) })
	})
	return nil
}

// React makes each reaction handle its topic (Handle for its consumer and topic); the events a
// reaction Skips are acked without being claimed in the inbox.
func (r *Router) React(reactions ...app.Reaction) error {
	for _, re := range reactions {
		if err := r.handle(re); err != nil {
			return err
		}
	}
	return nil
}

func (r *Router) subscriber(consumer string) (message.Subscriber, error) {
	if sub, ok := r.groups[consumer]; ok {
		return sub, nil
	}
	sub, err := r.subscribers.Subscriber(consumer)
	if err != nil {
		return nil, fmt.Errorf("consumers: %s: %w", consumer, err)
	}
	r.groups[consumer] = sub
	return sub, nil
}

// Run consumes until ctx ends or Close is called. On the way out it writes the inbox's pending
// "done" marks.
//
// When ctx ends, the consumers first drain what the broker still has under way for them (the
// in-process broker's queue, which the relay, stopped before them, counts as relayed; NATS's
// deliveries already begun), for up to drainTimeout.
func (r *Router) Run(ctx context.Context) error {
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	stop := context.AfterFunc(ctx, func() {
		defer stopRouter()
		if d, ok := r.subscribers.(drainer); ok {
			drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			if err := d.Drain(drainCtx); err != nil {
				r.logger.Error("consumers: stopping before the in-process broker was drained", "err", err)
			}
		}
	})
	defer stop()
	runErr := r.router.Run(routerCtx)
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), inboxFlushTimeout)
	defer cancel()
	if err := errors.Join(runErr, r.inbox.Flush(flushCtx)); err != nil {
		return fmt.Errorf("consumers: %w", err)
	}
	return nil
}

// drainer is a broker with deliveries to finish before the consumers stop (the in-process
// gochannel.Broker's queue; NATS's deliveries already begun).
type drainer interface {
	Drain(ctx context.Context) error
}

// drainTimeout bounds how long stopping consumers wait for the in-process broker to drain.
const drainTimeout = 15 * time.Second

// heldLongestWait is the longest wait between tries of a delivery whose event another one holds
// (a quarter of the reaction log's one-minute claim lease: after a crash, the dead claim is taken
// over soon after it runs out).
const heldLongestWait = 15 * time.Second

// inboxFlushTimeout bounds the last write of the inbox's pending "done" marks.
const inboxFlushTimeout = 10 * time.Second

// Running is closed once every handler is subscribed: start the relay after it.
func (r *Router) Running() <-chan struct{} {
	return r.router.Running()
}

// Close stops the consumers, letting handlers in progress finish.
func (r *Router) Close() error {
	return r.router.Close()
}
