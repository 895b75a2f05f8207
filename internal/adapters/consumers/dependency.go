package consumers

import (
	"context"
	"time"

	"github.com/wolfix/orders/internal/adapters/dbfault"
	"github.com/wolfix/orders/internal/domain/fault"
)

// dependencyDown reports whether err says that something the handler needs could not serve
// (retrying later may work), not that the event is bad: a fault.KindUnavailable (the store's
// database_unavailable, the payment provider's), or the consumers' own database connection lost
// on the way (dbfault's one rule, the same the store uses).
func dependencyDown(err error) bool {
	f, ok := fault.As(dbfault.Classify(err))
	return ok && f.Kind == fault.KindUnavailable
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
