package gochannel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// queuedPublisher hands publish calls to its pub/sub one after another, in order, from a
// goroutine of its own.
type queuedPublisher struct {
	next   message.Publisher
	logger watermill.LoggerAdapter
	queue  chan publication
	// highWater is the depth Room counts down to (the queue's size when zero).
	highWater int
	closing   chan struct{}
	stopped   chan struct{}
	once      sync.Once
	// undelivered counts the publications queued or being delivered.
	undelivered atomic.Int64
}

type publication struct {
	topic string
	msgs  []*message.Message
}

var (
	errBrokerClosed = errors.New("broker: closed")
	errQueueFull    = errors.New("broker: the in-process queue is full; the consumers are behind, try again later")
)

func newQueuedPublisher(next message.Publisher, logger watermill.LoggerAdapter, size int) *queuedPublisher {
	p := &queuedPublisher{
		next: next, logger: logger,
		queue:   make(chan publication, size),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go p.run()
	return p
}

// Publish queues the messages, or fails at once when the broker is closed or the queue is full.
func (p *queuedPublisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed() {
		return errBrokerClosed
	}
	p.undelivered.Add(1)
	select {
	case p.queue <- publication{topic: topic, msgs: msgs}:
		return nil
	default:
		p.undelivered.Add(-1)
		return errQueueFull
	}
}

// drainPoll is how often Drain looks whether the queue is empty.
const drainPoll = 5 * time.Millisecond

// Drain waits until everything queued has been delivered (handed to the subscribers and acked by
// them), or ctx ends: a graceful shutdown stops the relay, drains, then stops the consumers, so
// that what the relay recorded as relayed is not dropped with the queue.
func (p *queuedPublisher) Drain(ctx context.Context) error {
	for p.undelivered.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker: %d publications still queued: %w", p.undelivered.Load(), ctx.Err())
		case <-p.stopped:
			return errBrokerClosed
		case <-time.After(drainPoll):
		}
	}
	return nil
}

// Room is how many more publish calls the queue takes before it reaches its high-water mark (0
// when closed): the outbox relay reads no more rows than that, so it does not hold a read
// transaction open for messages the broker would refuse.
func (p *queuedPublisher) Room() int {
	if p.closed() {
		return 0
	}
	limit := p.highWater
	if limit <= 0 || limit > cap(p.queue) {
		limit = cap(p.queue)
	}
	return max(0, limit-len(p.queue))
}

func (p *queuedPublisher) run() {
	defer close(p.stopped)
	for {
		select {
		case pub := <-p.queue:
			if err := p.next.Publish(pub.topic, pub.msgs...); err != nil {
				p.logger.Error("in-process broker: publish failed", err, watermill.LogFields{"topic": pub.topic})
			}
			p.undelivered.Add(-1)
		case <-p.closing:
			return
		}
	}
}

// Close stops delivering (what is still queued is dropped) and closes the pub/sub.
func (p *queuedPublisher) Close() error {
	p.once.Do(func() { close(p.closing) })
	err := p.next.Close()
	<-p.stopped
	return err
}

func (p *queuedPublisher) closed() bool {
	select {
	case <-p.closing:
		return true
	default:
		return false
	}
}
