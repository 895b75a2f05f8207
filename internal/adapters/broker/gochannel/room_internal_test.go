package gochannel

import (
	"context"
	"errors"
	"time"

	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

func TestQueuedPublisherRoomCountsDownToItsHighWaterMark(t *testing.T) {
	next := stalledPublisher{release: make(chan struct{})}
	p := newQueuedPublisher(next, watermill.NopLogger{}, 8, 1)
	p.highWater = 4
	if got := p.Room(); got != 4 {
		t.Fatalf("empty: room %d; want 4", got)
	}
	for range 6 { // one is taken by the stalled delivering goroutine (or not yet)
		if err := p.Publish("orders.created", message.NewMessage(watermill.NewUUID(), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Room(); got != 0 {
		t.Fatalf("5 or 6 queued: room %d; want 0 (above the high-water mark, below the size)", got)
	}
	close(next.release)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := p.Room(); got != 0 {
		t.Fatalf("closed: room %d; want 0", got)
	}
}

func TestQueuedPublisherDrainWaitsForDelivery(t *testing.T) {
	next := stalledPublisher{release: make(chan struct{})}
	p := newQueuedPublisher(next, watermill.NopLogger{}, 8, 1)
	t.Cleanup(func() { _ = p.Close() })
	for range 3 {
		if err := p.Publish("orders.created", message.NewMessage(watermill.NewUUID(), nil)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := p.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled: Drain got %v; want the deadline", err)
	}
	close(next.release)
	if err := p.Drain(t.Context()); err != nil {
		t.Fatalf("released: Drain got %v", err)
	}
}
