package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// InboxConfig tunes the workers that drain the webhook inbox. Zero fields take the defaults.
type InboxConfig struct {
	// Lease is how long one worker holds an event before another (of any replica) may take it:
	// longer than processing one event takes, including the provider call. Default 1 minute.
	Lease time.Duration
	// SweepEvery is how often a worker looks for due events besides being woken by a delivery;
	// it picks up what a crashed process left and failed events whose retry time came. Default 30 s.
	SweepEvery time.Duration
	// Batch is how many events one sweep leases at once. Default 16.
	Batch int
	// Workers is how many events are processed at the same time. Default 16: with 4, confirm → Paid
	// waited on the queue (bench-compare card flow, 32 customers: p50 640 → 332 ms on Postgres).
	Workers int
	// RetryBase and RetryMax bound the exponential wait before a failed event is tried again.
	// Defaults 1 s and 5 minutes.
	RetryBase, RetryMax time.Duration
}

func (c InboxConfig) withDefaults() InboxConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Lease, time.Minute)
	def(&c.SweepEvery, 30*time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 5*time.Minute)
	if c.Batch <= 0 {
		c.Batch = 16
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	return c
}

// retryDelay is the wait after the attempts-th failure: RetryBase doubled per earlier failure, at
// most RetryMax.
func (c InboxConfig) retryDelay(attempts int) time.Duration {
	d := c.RetryBase
	for i := 0; i < attempts && d < c.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.RetryMax)
}

// Wake tells the workers that an event was recorded; it never blocks.
func (h *WebhookHandler) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run drains the inbox until ctx ends: at once (events a crashed or stopped process left), then
// whenever a delivery wakes it, and every SweepEvery. Its Workers run throughout, each taking the
// next leased event as soon as it is done with one, so an event recorded while others are being
// processed waits for a free worker, not for the whole batch leased before it. Trouble is logged
// and tried again on the next round; Run returns only ctx's error, once its workers have ended.
func (h *WebhookHandler) Run(ctx context.Context) error {
	jobs := make(chan InboxEntry)
	var workers sync.WaitGroup
	for range h.inbox.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			h.work(ctx, jobs)
		}()
	}
	h.handOff.open()
	defer workers.Wait()
	defer close(jobs)
	defer h.handOff.close()
	tick := time.NewTicker(h.inbox.SweepEvery)
	defer tick.Stop()
	for {
		_, err := h.leaseDue(ctx, func(entries []InboxEntry) {
			for _, e := range entries {
				jobs <- e // the workers take every job, after ctx ends too (processing then fails fast)
			}
		})
		if err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "webhook inbox sweep failed; trying again later", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.wake:
		case <-tick.C:
		}
	}
}

// work processes the events leased by the sweeps (jobs) and those handed over by Handle until jobs
// is closed, then those still handed over (ctx has ended by then: each is noted as interrupted and
// due again at once).
func (h *WebhookHandler) work(ctx context.Context, jobs <-chan InboxEntry) {
	for {
		select {
		case e, ok := <-jobs:
			if !ok {
				for e, ok := h.handOff.take(); ok; e, ok = h.handOff.take() {
					_ = h.process(ctx, e)
				}
				return
			}
			_ = h.process(ctx, e) // a failure is noted in the inbox and retried there
		case e := <-h.handOff.queue:
			h.handOff.release()
			_ = h.process(ctx, e)
		}
	}
}

// handOff carries events from Handle straight to Run's workers. It takes one only while Run runs
// and only as many as there are workers, so a handed-over event never waits long for one.
type handOff struct {
	queue   chan InboxEntry
	pending atomic.Int64 // reserved or queued, at most cap(queue)
	running atomic.Bool
}

func newHandOff(workers int) *handOff { return &handOff{queue: make(chan InboxEntry, workers)} }

func (o *handOff) open()  { o.running.Store(true) }
func (o *handOff) close() { o.running.Store(false) }

// reserve holds a place for one event; the caller then gives it, or releases the place.
func (o *handOff) reserve() bool {
	if !o.running.Load() {
		return false
	}
	if o.pending.Add(1) > int64(cap(o.queue)) {
		o.pending.Add(-1)
		return false
	}
	return true
}

// give queues e in its reserved place; it never blocks.
func (o *handOff) give(e InboxEntry) { o.queue <- e }

// release frees a place: one reserved and not used, or that of an event a worker took.
func (o *handOff) release() { o.pending.Add(-1) }

// take returns a queued event without waiting.
func (o *handOff) take() (InboxEntry, bool) {
	select {
	case e := <-o.queue:
		o.release()
		return e, true
	default:
		return InboxEntry{}, false
	}
}

// Sweep leases the events that are due and processes them, Workers at a time, until none is left
// (a failed event waits for its retry time); it reports how many events it leased. Several sweeps
// (of one process or of replicas) never hold one event at the same time, and the claim inside the
// effect's transaction makes each event act once even if a lease ran out mid-way.
func (h *WebhookHandler) Sweep(ctx context.Context) (int, error) {
	return h.leaseDue(ctx, func(entries []InboxEntry) { h.processAll(ctx, entries) })
}

// leaseDue leases the due events a batch at a time and hands each batch to handle, until a batch
// comes back short; it reports how many events it leased.
func (h *WebhookHandler) leaseDue(ctx context.Context, handle func(entries []InboxEntry)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		now := h.clock.Now()
		entries, err := h.store.Webhooks().Lease(ctx, now, now.Add(h.inbox.Lease), h.inbox.Batch)
		if err != nil {
			return total, err
		}
		total += len(entries)
		handle(entries)
		if len(entries) < h.inbox.Batch {
			break
		}
	}
	return total, nil
}

func (h *WebhookHandler) processAll(ctx context.Context, entries []InboxEntry) {
	slots := make(chan struct{}, h.inbox.Workers)
	var wg sync.WaitGroup
	for _, e := range entries {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			_ = h.process(ctx, e) // a failure is noted in the inbox and retried there
		}()
	}
	wg.Wait()
}
