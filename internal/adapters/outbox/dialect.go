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
}

func dialectFor(name string, batchSize int) (dialect, error) {
	switch name {
	case DialectPostgres:
		return dialect{
			schema: wsql.DefaultPostgreSQLSchema{
				GenerateMessagesTableName: func(string) string { return messagesTable },
				GeneratePayloadType:       func(string) string { return "BYTEA" },
				SubscribeBatchSize:        batchSize,
			},
			offsets: wsql.DefaultPostgreSQLOffsetsAdapter{
				GenerateMessagesOffsetsTableName: func(string) string { return offsetsTable },
			},
			backlogQuery: `SELECT count(*) FROM ` + messagesTable + ` m WHERE NOT EXISTS (
				SELECT 1 FROM ` + offsetsTable + ` o WHERE o.consumer_group = $1
				AND (m.transaction_id, m."offset") <= (o.last_processed_transaction_id, o.offset_acked))`,
			ackDeadline: 30 * time.Second,
		}, nil
	case DialectSQLite:
		return dialect{
			schema:  sqliteSchema{batchSize: batchSize},
			offsets: sqliteOffsets{},
			backlogQuery: `SELECT count(*) FROM ` + messagesTable + ` WHERE "offset" > COALESCE(
				(SELECT offset_acked FROM ` + offsetsTable + ` WHERE consumer_group = ?), 0)`,
			ackDeadline: 2 * time.Second,
		}, nil
	default:
		return dialect{}, fmt.Errorf("outbox: unknown dialect %q (want %q or %q)", name, DialectPostgres, DialectSQLite)
	}
}
