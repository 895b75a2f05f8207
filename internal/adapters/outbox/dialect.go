package outbox

import (
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// Dialect names, as the storage adapter spells them.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Table names, as the migrations create them.
const (
	messagesTable = "outbox_messages"
	offsetsTable  = "outbox_offsets"
)

// dialect is what the outbox needs to know about one database.
type dialect struct {
	schema  wsql.SchemaAdapter
	offsets wsql.OffsetsAdapter
	// backlogQuery counts the rows the consumer group ($1 / ?) has not relayed yet.
	backlogQuery string
	// ackDeadline bounds how long the relay keeps one read transaction open while the broker
	// refuses a message; on SQLite that transaction holds the only write lock, so it is short.
	ackDeadline time.Duration
	// resendInterval is the pause, inside the read transaction, before a refused message is
	// offered again (0: RelayConfig.RetryInterval). On SQLite it is a few milliseconds, so that
	// a refused batch gives the write lock back well within ackDeadline.
	resendInterval time.Duration
	// pendingQuery tells, without a transaction, whether the consumer group (?)
	// has rows to relay: on SQLite every read transaction takes the only write lock, so the relay
	// does not begin one to find nothing. Empty: always read.
	pendingQuery string
	// limitBatch returns the schema with reads of at most n rows (n ≤ the configured batch).
	limitBatch func(n int) wsql.SchemaAdapter
	// oldestWriterQuery answers, in seconds (NULL when there is none), the age of the oldest
	// transaction that holds a transaction id anywhere in the database's cluster: reads stop below
	// it. Empty where reads have no such horizon (SQLite has one writer at a time).
	oldestWriterQuery string
}

func dialectFor(name string, batchSize int) (dialect, error) {
	switch name {
	case DialectPostgres:
		schema := wsql.DefaultPostgreSQLSchema{
			GenerateMessagesTableName: func(string) string { return messagesTable },
			GeneratePayloadType:       func(string) string { return "BYTEA" },
			SubscribeBatchSize:        batchSize,
		}
		return dialect{
			schema: schema,
			limitBatch: func(n int) wsql.SchemaAdapter {
				limited := schema
				limited.SubscribeBatchSize = n
				return limited
			},
			offsets: wsql.DefaultPostgreSQLOffsetsAdapter{
				GenerateMessagesOffsetsTableName: func(string) string { return offsetsTable },
			},
			// a function (migration 20261202000200) that walks the primary key from the acked
			// position, whatever the statistics, instead of reading the day of relayed rows kept
			backlogQuery: `SELECT outbox_backlog($1)`,
			// watermill reads rows whose transaction_id < pg_snapshot_xmin(pg_current_snapshot()):
			// the oldest running transaction id of the cluster, any database's, and prepared ones.
			// Another role's sessions show no backend_xid without pg_read_all_stats.
			oldestWriterQuery: `SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(began))::float8 FROM (
				SELECT xact_start AS began FROM pg_stat_activity WHERE backend_xid IS NOT NULL
				UNION ALL SELECT prepared FROM pg_prepared_xacts) AS writers`,
			ackDeadline: 30 * time.Second,
		}, nil
	case DialectSQLite:
		return dialect{
			schema:     sqliteSchema{batchSize: batchSize},
			limitBatch: func(n int) wsql.SchemaAdapter { return sqliteSchema{batchSize: n} },
			offsets:    sqliteOffsets{},
			backlogQuery: `SELECT count(*) FROM ` + messagesTable + ` WHERE "offset" > COALESCE(
				(SELECT offset_acked FROM ` + offsetsTable + ` WHERE consumer_group = ?), 0)`,
			pendingQuery: `SELECT EXISTS (SELECT 1 FROM ` + messagesTable + ` WHERE "offset" > COALESCE(
				(SELECT offset_acked FROM ` + offsetsTable + ` WHERE consumer_group = ?), 0))`,
			ackDeadline:    250 * time.Millisecond,
			resendInterval: 20 * time.Millisecond,
		}, nil
	default:
		return dialect{}, fmt.Errorf("outbox: unknown dialect %q (want %q or %q)", name, DialectPostgres, DialectSQLite)
	}
}
