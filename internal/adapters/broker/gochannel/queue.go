package gochannel

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
)

// queuedPublisher hands publish calls to its pub/sub from goroutines of its own, its lanes. Each
// lane has a queue and a topic of its own (laneTopic): GoChannel holds a topic's lock until the
// subscribers acked, so only distinct topics are delivered at once. An event goes to the lane its
// ordering key (broker.MetaOrderingKey, its order's id; else its id) hashes to, so the events of
// one order arrive in the order they were published, while those of different orders are handled
// at once.
type queuedPublisher struct {
	next   message.Publisher
	logger watermill.LoggerAdapter
	lanes  []chan publication
	// capacity is how many events the lanes' queues hold in all; highWater is the count of
	// undelivered events Room counts down to (capacity when zero).
	capacity   int
	highWater  int
	enqueue    sync.Mutex // one Publish at a time checks the room it needs and takes it
	closing    chan struct{}
	stopped    chan struct{}
	once       sync.Once
	delivering sync.WaitGroup
	// undelivered counts the events queued or being delivered.
	undelivered atomic.Int64
}

type publication struct {
	topic string
	msg   *message.Message
}

var (
	errBrokerClosed = errors.New("broker: closed")
	errQueueFull    = errors.New("broker: the in-process queue is full; the consumers are behind, try again later")
)

// newQueuedPublisher queues up to size events for next, shared out among lanes lanes.
func newQueuedPublisher(next message.Publisher, logger watermill.LoggerAdapter, size, lanes int) *queuedPublisher {
	lanes = max(lanes, 1)
	p := &queuedPublisher{
		next: next, logger: logger,
		lanes:   make([]chan publication, lanes),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for lane := range p.lanes {
		p.lanes[lane] = make(chan publication, max(size/lanes, 1))
		p.capacity += cap(p.lanes[lane])
		p.delivering.Go(func() { p.run(lane) })
	}
	go func() { p.delivering.Wait(); close(p.stopped) }()
	return p
}

// Publish queues the messages, each in its lane, or none of them: it fails at once when the
// broker is closed or a lane has no room.
func (p *queuedPublisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed() {
		return errBrokerClosed
	}
	p.enqueue.Lock()
	defer p.enqueue.Unlock()
	lanes := make([]int, len(msgs))
	needed := make([]int, len(p.lanes))
	for i, msg := range msgs {
		lanes[i] = p.laneOf(msg)
		if needed[lanes[i]]++; len(p.lanes[lanes[i]])+needed[lanes[i]] > cap(p.lanes[lanes[i]]) {
			return errQueueFull
		}
	}
	for i, msg := range msgs { // only the lanes' goroutines take from them: the room checked stays
		p.undelivered.Add(1)
		p.lanes[lanes[i]] <- publication{topic: topic, msg: msg}
	}
	return nil
}

// laneOf is the lane of msg's ordering key.
func (p *queuedPublisher) laneOf(msg *message.Message) int {
	key := msg.Metadata.Get(broker.MetaOrderingKey)
	if key == "" {
		key = msg.UUID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(len(p.lanes)))
}

// drainPoll is how often Drain looks whether everything was delivered.
const drainPoll = 5 * time.Millisecond

// Drain waits until everything queued has been delivered (handed to the subscribers and acked by
// them), or ctx ends: a graceful shutdown stops the relay, drains, then stops the consumers, so
// that what the relay recorded as relayed is not dropped with the queue.
func (p *queuedPublisher) Drain(ctx context.Context) error {
	for p.undelivered.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker: %d events still undelivered: %w", p.undelivered.Load(), ctx.Err())
		case <-p.stopped:
			return errBrokerClosed
		case <-time.After(drainPoll):
		}
	}
	return nil
}

// Room is how many more events the broker takes before those undelivered reach its high-water
// mark (0 when closed): the outbox relay reads no more rows than that, so it does not hold a read
// transaction open for messages the broker would refuse.
func (p *queuedPublisher) Room() int {
	if p.closed() {
		return 0
	}
	limit := p.highWater
	if limit <= 0 || limit > p.capacity {
		limit = p.capacity
	}
	return max(0, limit-int(p.undelivered.Load()))
}

// run is one lane: until Close, it delivers what it takes from its queue to its topic.
func (p *queuedPublisher) run(lane int) {
	for {
		select {
		case pub := <-p.lanes[lane]:
			if err := p.next.Publish(laneTopic(pub.topic, lane), pub.msg); err != nil {
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
