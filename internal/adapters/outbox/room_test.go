package outbox_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/outbox"
)

// roomyPublisher is a broker with a queue of limited room, like the in-process one: it refuses
// what does not fit, and its room comes back only when the test drains it.
type roomyPublisher struct {
	mu       sync.Mutex
	room     int
	got      []string
	refusals int
	maxBatch int // most messages taken between two drains
	since    int
}

func (p *roomyPublisher) Publish(_ string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(msgs) > p.room {
		p.refusals++
		return errors.New("roomy: full")
	}
	p.room -= len(msgs)
	for _, m := range msgs {
		p.got = append(p.got, m.UUID)
	}
	p.since += len(msgs)
	p.maxBatch = max(p.maxBatch, p.since)
	return nil
}

func (p *roomyPublisher) Room() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.room
}

func (p *roomyPublisher) Close() error { return nil }

func (p *roomyPublisher) drain(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.room, p.since = n, 0
}

func (p *roomyPublisher) state() (got, refusals, maxBatch int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got), p.refusals, p.maxBatch
}

// A relay on a broker that says how much room it has reads no more than that: it never holds a
// read transaction (SQLite's write lock) for messages it would be refused, and nothing is lost.
func TestRelayReadsNoMoreThanTheBrokerHasRoomFor(t *testing.T) {
	db := openSQLite(t)
	open := opener(t, outbox.DialectSQLite)
	pub := &roomyPublisher{}
	relay, _ := runRelay(t, db, outbox.DialectSQLite, pub, outbox.RelayConfig{BatchSize: 50, PollInterval: 5 * time.Millisecond})

	orders := orderEvents("room", 20, 3)
	commitEach(t, db, open, orders)
	time.Sleep(100 * time.Millisecond)
	if got, refusals, _ := pub.state(); got != 0 || refusals != 0 {
		t.Fatalf("with no room: %d published, %d refused; want none", got, refusals)
	}
	if err := relay.Health(t.Context()); err != nil {
		t.Errorf("health while the broker is briefly full: %v", err)
	}
	deadline := time.Now().Add(arrivalTimeout)
	for {
		got, _, _ := pub.state()
		if got == 60 || time.Now().After(deadline) {
			break
		}
		pub.drain(7)
		time.Sleep(20 * time.Millisecond)
	}
	got, refusals, maxBatch := pub.state()
	if got != 60 || refusals != 0 || maxBatch > 7 {
		t.Fatalf("published %d of 60, %d refused, up to %d between drains; want 60, 0, ≤7", got, refusals, maxBatch)
	}
	// The relay marks a batch published only after the broker took it, so the last marks may
	// still be on their way when the test sees all 60.
	waitUntil(t, func() bool {
		n, err := relay.Backlog(t.Context())
		if err != nil {
			t.Fatalf("backlog: %v", err)
		}
		return n == 0
	})
}
