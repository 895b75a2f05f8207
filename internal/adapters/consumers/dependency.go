package consumers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
)

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
