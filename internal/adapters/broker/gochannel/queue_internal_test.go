package gochannel

import (
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// stalledPublisher never finishes a publish until released, like a pub/sub whose subscribers
// have not acked.
type stalledPublisher struct{ release chan struct{} }

func (s stalledPublisher) Publish(string, ...*message.Message) error { <-s.release; return nil }
func (s stalledPublisher) Close() error                              { return nil }

func TestQueuedPublisherRefusesWhenFullInsteadOfWaiting(t *testing.T) {
	next := stalledPublisher{release: make(chan struct{})}
	p := newQueuedPublisher(next, watermill.NopLogger{}, 2, 1)
	// One publication is taken by the delivering goroutine (stalled), two fill the queue; the
	// goroutine may not have taken the first yet, so allow one more before the queue is surely full.
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		err = p.Publish("orders.created", message.NewMessage(watermill.NewUUID(), nil))
	}
	if !errors.Is(err, errQueueFull) {
		t.Fatalf("got %v; want errQueueFull once the queue is full", err)
	}
	close(next.release)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish("orders.created", message.NewMessage(watermill.NewUUID(), nil)); !errors.Is(err, errBrokerClosed) {
		t.Fatalf("after Close: got %v; want errBrokerClosed", err)
	}
}
