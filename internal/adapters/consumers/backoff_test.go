package consumers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/testenv"
)

var errDependencyDown = fault.Unavailable("dependency_unavailable", "the dependency does not answer")

// A dependency down for 1.5 s while five events wait: the consumers back off, the log hears of
// the failure once per back-off step (not once per event or per try), each step is longer than
// the one before the last (doubling, with jitter of ±50%), and when the dependency is back every
// event is handled once and none is poisoned: a dependency failing is not the event failing.
func TestRouterBacksOffFromAFailingDependencyAndLogsOncePerStep(t *testing.T) {
	const outage, retryInterval = 1500 * time.Millisecond, 20 * time.Millisecond
	logs := &testenv.Buffer{}
	var down atomic.Bool
	down.Store(true)
	var tries atomic.Int32
	var mu sync.Mutex
	handled := map[string]int{}
	b, _ := startRouterWith(t, consumers.RouterConfig{RetryInterval: retryInterval, MaxRetryInterval: 10 * time.Second},
		slog.New(slog.NewJSONHandler(logs, nil)), func(r *consumers.Router, _ *counter) {
			handle(t, r, "orders.paid", func(_ context.Context, ev events.Envelope) error {
				tries.Add(1)
				if down.Load() {
					return errDependencyDown
				}
				mu.Lock()
				handled[ev.ID]++
				mu.Unlock()
				return nil
			})
		})
	poisoned := subscribe(t, b, consumers.DefaultPoisonTopic)
	publish(t, b, "orders.paid", "ev-1", "ev-2", "ev-3", "ev-4", "ev-5")
	time.Sleep(outage)
	down.Store(false)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 5 })

	steps := failureSteps(t, logs.String())
	t.Logf("%.1f s down: %d tries, %d log lines, steps %v", outage.Seconds(), tries.Load(), len(steps), steps)
	// doubling from 20 ms (±50%) fills 1.5 s in 6 to 8 steps
	if len(steps) < 4 || len(steps) > 9 {
		t.Fatalf("%d failure lines in %v; want one per back-off step (4 to 9)", len(steps), outage)
	}
	if last := steps[len(steps)-1]; last < 4*retryInterval {
		t.Errorf("the last step waited %v; want at least 4 × %v after %d doublings", last, retryInterval, len(steps)-1)
	}
	if n := int(tries.Load()); n > 2*len(steps)+6 {
		t.Errorf("%d tries for %d steps; want about one try per step", n, len(steps))
	}
	for i := 2; i < len(steps); i++ {
		if steps[i] <= steps[i-2] {
			t.Errorf("step %d (%v) is not longer than step %d (%v): the back-off does not grow", i, steps[i], i-2, steps[i-2])
		}
	}
	if !strings.Contains(logs.String(), "handling events works again") {
		t.Error("the recovery was not logged")
	}
	for id, n := range handled {
		if n != 1 {
			t.Errorf("%s handled %d times; want once", id, n)
		}
	}
	select {
	case msg := <-poisoned:
		t.Errorf("%s went to the poison topic while its dependency was down", msg.UUID)
	case <-time.After(200 * time.Millisecond):
	}
}

// failureSteps returns the retry_in of each "handling events fails" line of a JSON log.
func failureSteps(t *testing.T, log string) []time.Duration {
	t.Helper()
	var steps []time.Duration
	lines := bufio.NewScanner(strings.NewReader(log))
	for lines.Scan() {
		var line struct {
			Msg     string        `json:"msg"`
			RetryIn time.Duration `json:"retry_in"` // slog writes a duration as nanoseconds
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", lines.Text(), err)
		}
		if !strings.Contains(line.Msg, "handling events fails") {
			continue
		}
		steps = append(steps, line.RetryIn)
	}
	return steps
}
