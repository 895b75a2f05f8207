package consumers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/wolfix/orders/internal/domain/fault"
)

// pause is the consumers' shared back-off from failures: after a handler fails, every handler
// waits before its next try; the waits grow exponentially, with jitter (cenkalti/backoff), for as
// long as the failures go on, and end at the first success. The log hears of a failure once per
// step, however many events and tries fall into it.
type pause struct {
	log *slog.Logger

	mu      sync.Mutex
	steps   *backoff.ExponentialBackOff
	until   time.Time // tries wait until then
	failing bool
}

func newPause(first, most time.Duration, log *slog.Logger) *pause {
	steps := backoff.NewExponentialBackOff()
	steps.InitialInterval, steps.MaxInterval, steps.Multiplier = first, most, 2
	return &pause{log: log, steps: steps}
}

// wait returns when the current step is over, or ctx's error if ctx ends first.
func (p *pause) wait(ctx context.Context) error {
	p.mu.Lock()
	left := time.Until(p.until)
	p.mu.Unlock()
	return sleep(ctx, left)
}

// failed starts the next step unless one is running, and logs it once.
func (p *pause) failed(handler string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().Before(p.until) {
		return // a try that began before this step failed too; the step says it already
	}
	step := p.steps.NextBackOff()
	p.until, p.failing = time.Now().Add(step), true
	p.log.Error("consumers: handling events fails; every consumer waits before its next try",
		"handler", handler, "err", err, "retry_in", step.Round(time.Millisecond), "dependency_down", dependencyDown(err))
}

// recovered ends the failures, if there were any: the next failure waits the first step again.
func (p *pause) recovered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failing {
		p.failing = false
		p.steps.Reset()
		p.log.Info("consumers: handling events works again")
	}
}

// dependencyDown reports whether err says that something the handler needs could not serve
// (retrying later may work), not that the event is bad: a fault.KindUnavailable (the store's
// database_unavailable, the payment provider's), or a connection lost on the way.
func dependencyDown(err error) bool {
	if f, ok := fault.As(err); ok {
		return f.Kind == fault.KindUnavailable
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
