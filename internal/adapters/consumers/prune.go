package consumers

import (
	"context"
	"fmt"
	"time"
)

// DeleteHandled deletes at most limit consumed-event rows of events handled more than olderThan
// ago, in one short statement, and returns how many went. Keep them longer than the broker may redeliver an
// event; rows of events still being handled stay.
func (i *Inbox) DeleteHandled(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	res, err := i.db.ExecContext(ctx, i.rebind(`DELETE FROM consumed_events WHERE (consumer, event_id) IN (
		SELECT consumer, event_id FROM consumed_events WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)`),
		i.now().Add(-olderThan).UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("consumers: prune handled events: %w", err)
	}
	return res.RowsAffected()
}
