// Package outage owns how the adapters live through a failing dependency (a database, a broker,
// Redis): a Tracker, shared by every caller of that dependency, turns a run of failures into
// back-off steps that grow exponentially with jitter (cenkalti/backoff/v5), logs each step once
// (not once per caller, event or try), and logs the recovery once. Callers decide what a step
// means for them: wait it out, or go around the dependency until it is over.
package outage

import (
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Config describes one dependency's tracker.
type Config struct {
	// First is the first step; each further failure doubles it, with jitter of ±50%, up to Most.
	First, Most time.Duration
	// Failing and Recovered are the log messages of a step and of the recovery.
	Failing, Recovered string
	// Log receives them: a step at error level, the recovery at info level.
	Log *slog.Logger
}

// Tracker follows the failures of one dependency. It is safe for concurrent use.
type Tracker struct {
	cfg Config

	mu    sync.Mutex
	steps *backoff.ExponentialBackOff
	until time.Time // the current step ends then
	down  bool
}

// New returns a tracker of a dependency that works.
func New(cfg Config) *Tracker {
	steps := backoff.NewExponentialBackOff()
	steps.InitialInterval, steps.MaxInterval, steps.Multiplier = cfg.First, max(cfg.First, cfg.Most), 2
	return &Tracker{cfg: cfg, steps: steps}
}

// Resting returns how long the current step still lasts; zero when there is none.
func (t *Tracker) Resting() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(time.Until(t.until), 0)
}

// Failed starts the next step, unless one is running (a try that began before it failed too),
// logs it with err and attrs, and returns how long the step lasts from now.
func (t *Tracker) Failed(err error, attrs ...any) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if left := time.Until(t.until); left > 0 {
		return left
	}
	step := t.steps.NextBackOff()
	t.until, t.down = time.Now().Add(step), true
	t.cfg.Log.Error(t.cfg.Failing, append([]any{"err", err, "retry_in", step.Round(time.Millisecond)}, attrs...)...)
	return step
}

// Down reports whether the dependency failed and has not recovered since.
func (t *Tracker) Down() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.down
}

// Recovered ends the run of failures, if there was one: the next failure starts at the first step.
func (t *Tracker) Recovered() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down {
		t.down = false
		t.steps.Reset()
		t.cfg.Log.Info(t.cfg.Recovered)
	}
}
