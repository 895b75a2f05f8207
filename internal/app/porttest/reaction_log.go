package porttest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wolfix/orders/internal/app"
)

// RunReactionLog runs the reaction-log suite: a claimed event is held from other deliveries, a
// done one is done for that consumer only, a released one can be claimed again, and of concurrent
// claims of one event exactly one wins. open returns a fresh, empty log.
func RunReactionLog(t *testing.T, open func(t *testing.T) app.ReactionLog) {
	ctx := context.Background()
	claim := func(t *testing.T, log app.ReactionLog, consumer, eventID string, want app.ReactionClaim) {
		t.Helper()
		got, err := log.Claim(ctx, consumer, eventID)
		if err != nil || got != want {
			t.Errorf("Claim(%s, %s): %v, %v; want %v", consumer, eventID, got, err, want)
		}
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a claimed event is held until done, then done for that consumer only", func(t *testing.T) {
		log := open(t)
		claim(t, log, "mail", "ev-1", app.ReactionClaimed)
		claim(t, log, "mail", "ev-1", app.ReactionHeld)
		claim(t, log, "fulfil", "ev-1", app.ReactionClaimed)
		must(t, log.Done(ctx, "mail", "ev-1"))
		must(t, log.Flush(ctx))
		claim(t, log, "mail", "ev-1", app.ReactionDone)
		claim(t, log, "fulfil", "ev-1", app.ReactionHeld)
	})

	t.Run("a done mark not flushed yet still makes a redelivery wait", func(t *testing.T) {
		log := open(t)
		claim(t, log, "mail", "ev-2", app.ReactionClaimed)
		must(t, log.Done(ctx, "mail", "ev-2"))
		got, err := log.Claim(ctx, "mail", "ev-2")
		if err != nil || got == app.ReactionClaimed {
			t.Errorf("Claim after Done: %v, %v; want done or held, never claimed again", got, err)
		}
	})

	t.Run("done marks pending together are all written", func(t *testing.T) {
		log := open(t)
		events := []struct{ consumer, id string }{{"mail", "ev-4"}, {"fulfil", "ev-4"}, {"mail", "ev-5"}}
		for _, ev := range events {
			claim(t, log, ev.consumer, ev.id, app.ReactionClaimed)
		}
		for _, ev := range events {
			must(t, log.Done(ctx, ev.consumer, ev.id))
		}
		claim(t, log, "fulfil", "ev-5", app.ReactionClaimed) // writes the pending marks first
		for _, ev := range events {
			claim(t, log, ev.consumer, ev.id, app.ReactionDone)
		}
	})

	t.Run("a released event is claimed again", func(t *testing.T) {
		log := open(t)
		claim(t, log, "mail", "ev-3", app.ReactionClaimed)
		must(t, log.Release(ctx, "mail", "ev-3"))
		claim(t, log, "mail", "ev-3", app.ReactionClaimed)
	})

	t.Run("of many concurrent claims, each event is won once", func(t *testing.T) {
		log := open(t)
		const events, deliveries = 40, 3
		wins := make([]atomic.Int32, events)
		var wg sync.WaitGroup
		for i := range events * deliveries {
			wg.Go(func() {
				ev := i % events
				got, err := log.Claim(ctx, "mail", fmt.Sprintf("ev-many-%d", ev))
				if err != nil {
					t.Errorf("Claim: %v", err)
				} else if got == app.ReactionClaimed {
					wins[ev].Add(1)
				}
			})
		}
		wg.Wait()
		for ev := range wins {
			if n := wins[ev].Load(); n != 1 {
				t.Errorf("ev-many-%d was won by %d of its %d deliveries; want 1", ev, n, deliveries)
			}
		}
	})

	t.Run("of concurrent claims exactly one wins", func(t *testing.T) {
		log := open(t)
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				got, err := log.Claim(ctx, "mail", "ev-race")
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if got == app.ReactionClaimed {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d of 8 concurrent claims won; want exactly 1", won)
		}
	})
}
