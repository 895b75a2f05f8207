package outbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/app"
)

// BenchmarkRelayPostgresToNATS relays b.N events from PostgreSQL to NATS JetStream twice: first a
// backlog of b.N committed events (events/s through the relay, from start to the last arrival),
// then b.N events committed one per transaction at about 1,000/s (lag from each commit to its
// arrival at a JetStream consumer, p50 and p99). Run it with
//
//	go test -run x -bench Relay -benchtime 5000x ./internal/adapters/outbox/
func BenchmarkRelayPostgresToNATS(b *testing.B) {
	db := openPostgres(b)
	brk, topics := openNATS(b)
	open, err := outbox.NewOpener(outbox.DialectPostgres, testLogger())
	if err != nil {
		b.Fatal(err)
	}
	arrivals := newArrivalClock(b, brk, topics)

	backlog := flatten(orderEvents("backlog", 1, b.N))
	commitInBatches(b, db, open, backlog, 100)
	b.ResetTimer()
	start := time.Now()
	_, stop := runRelay(b, db, outbox.DialectPostgres, brk.Publisher(), outbox.RelayConfig{})
	last := arrivals.waitAll(b, backlog)
	b.StopTimer()
	rate := float64(len(backlog)) / last.Sub(start).Seconds()

	paced := flatten(orderEvents("paced", 1, b.N))
	committed := commitPaced(b, db, open, paced, time.Millisecond)
	arrivals.waitAll(b, paced)
	stop()
	lags := arrivals.lags(committed)
	p50, p99 := percentile(lags, 0.50), percentile(lags, 0.99)

	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-lag-ms")
	fmt.Printf("relay Postgres → NATS: %d events: %.0f events/s; commit→arrival lag at ~1000/s: p50 %s, p99 %s\n",
		b.N, rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
}

func flatten(orders [][]app.Event) []app.Event {
	return slices.Concat(orders...)
}

func commitInBatches(b *testing.B, db *sql.DB, open outbox.Opener, events []app.Event, size int) {
	for chunk := range slices.Chunk(events, size) {
		if err := inTx(context.Background(), db, open, true, chunk...); err != nil {
			b.Fatalf("commit: %v", err)
		}
	}
}

// commitPaced commits one event per transaction, one every interval, and returns when each commit
// returned.
func commitPaced(b *testing.B, db *sql.DB, open outbox.Opener, events []app.Event, interval time.Duration) map[string]time.Time {
	committed := make(map[string]time.Time, len(events))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for _, ev := range events {
		<-tick.C
		if err := inTx(context.Background(), db, open, true, ev); err != nil {
			b.Fatalf("commit: %v", err)
		}
		committed[ev.ID] = time.Now()
	}
	return committed
}

// arrivalClock records when each event first reaches a consumer on the broker.
type arrivalClock struct {
	mu      sync.Mutex
	arrived map[string]time.Time
}

func newArrivalClock(b *testing.B, brk broker.Broker, topics []string) *arrivalClock {
	sub, err := brk.Subscriber("bench-" + randomHex())
	if err != nil {
		b.Fatal(err)
	}
	c := &arrivalClock{arrived: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	for _, topic := range topics {
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for msg := range msgs {
				c.mark(msg.UUID, time.Now())
				msg.Ack()
			}
		}()
	}
	return c
}

func (c *arrivalClock) mark(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.arrived[id]; !ok {
		c.arrived[id] = at
	}
}

// waitAll waits for every event and returns when the last one arrived.
func (c *arrivalClock) waitAll(b *testing.B, events []app.Event) time.Time {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		last, missing := c.lastOf(events)
		if missing == 0 {
			return last
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events never arrived", missing, len(events))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *arrivalClock) lastOf(events []app.Event) (last time.Time, missing int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		at, ok := c.arrived[ev.ID]
		if !ok {
			missing++
		} else if at.After(last) {
			last = at
		}
	}
	return last, missing
}

func (c *arrivalClock) lags(committed map[string]time.Time) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	lags := make([]time.Duration, 0, len(committed))
	for id, at := range committed {
		lags = append(lags, c.arrived[id].Sub(at))
	}
	slices.Sort(lags)
	return lags
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
