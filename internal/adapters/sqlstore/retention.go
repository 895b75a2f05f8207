package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Retention: each Delete… call removes at most limit rows in one short statement (the rows are
// picked by primary key in a LIMITed subselect), so a caller deleting in a loop never holds
// locks on a hot table for long. They return how many rows went.

// DeleteProcessedWebhooks deletes webhook inbox rows processed more than olderThan ago. Keep them longer
// than the provider retries a delivery (Stripe: 3 days), so a late duplicate is still recognised;
// unprocessed rows are the inbox's queue and are never deleted.
func (s *Store) DeleteProcessedWebhooks(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	return s.deleteBatch(ctx, "webhook inbox", `DELETE FROM webhook_events WHERE event_id IN (
		SELECT event_id FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < ? LIMIT ?)`, olderThan, limit)
}

func (s *Store) deleteBatch(ctx context.Context, what, query string, olderThan time.Duration, limit int) (int64, error) {
	res, err := s.pool.ExecContext(ctx, query, time.Now().Add(-olderThan).UTC(), limit)
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", what, err)
	}
	return res.RowsAffected()
}
