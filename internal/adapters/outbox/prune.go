package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// relayedBefore deletes at most $3/? rows that every relay has relayed (at or below the relay
// group's offset) and that were written more than $2/? seconds ago; a row still to relay is never
// touched. created_at is the database's own clock (a timestamp without zone), so the age is
// measured on that clock too.
var relayedBefore = map[string]string{
	DialectPostgres: `DELETE FROM ` + messagesTable + ` WHERE (transaction_id, "offset") IN (
		SELECT m.transaction_id, m."offset" FROM ` + messagesTable + ` m JOIN ` + offsetsTable + ` o
		ON o.consumer_group = $1 AND (m.transaction_id, m."offset") <= (o.last_processed_transaction_id, o.offset_acked)
		WHERE m.created_at < LOCALTIMESTAMP - make_interval(secs => $2) LIMIT $3)`,
	DialectSQLite: `DELETE FROM ` + messagesTable + ` WHERE "offset" IN (
		SELECT "offset" FROM ` + messagesTable + ` WHERE "offset" <= COALESCE(
			(SELECT offset_acked FROM ` + offsetsTable + ` WHERE consumer_group = ?), 0)
		AND created_at < datetime('now', '-' || ? || ' seconds') LIMIT ?)`,
}

// DeleteRelayed deletes at most limit outbox rows that were relayed and written more than
// olderThan ago, in one short statement, and returns how many went. Unrelayed rows stay, however
// old.
func DeleteRelayed(ctx context.Context, db *sql.DB, dialect string, olderThan time.Duration, limit int) (int64, error) {
	query, ok := relayedBefore[dialect]
	if !ok {
		return 0, fmt.Errorf("outbox: unknown dialect %q", dialect)
	}
	res, err := db.ExecContext(ctx, query, relayGroup, int64(olderThan.Seconds()), limit)
	if err != nil {
		return 0, fmt.Errorf("outbox: prune relayed rows: %w", err)
	}
	return res.RowsAffected()
}
