package outbox

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// The SQLite adapters plug into watermill-sql's publisher and subscriber. They rely on what the
// storage adapter's DSN sets up: _txlock=immediate, so that the relay's read-then-ack transaction
// holds the write lock from its start (a deferred one fails with SQLITE_BUSY when it comes to
// ack, and the batch is delivered again); busy_timeout, so that writers wait for each other; WAL.
// Offsets come from AUTOINCREMENT and SQLite has one writer at a time, so rows commit in offset
// order and "everything after the acked offset" never skips a row.

// errSchemaByMigrations answers watermill's offer to create tables: the migrations own them.
var errSchemaByMigrations = errors.New("outbox: the outbox tables are created by migrations")

// sqliteSchema is the watermill-sql SchemaAdapter of the SQLite outbox table.
type sqliteSchema struct {
	batchSize int
}

func (s sqliteSchema) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	rows := make([]string, len(params.Msgs))
	args := make([]any, 0, 3*len(params.Msgs))
	for i, msg := range params.Msgs {
		metadata, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("outbox: encode metadata of %s: %w", msg.UUID, err)
		}
		rows[i] = "(?, ?, ?)"
		args = append(args, msg.UUID, []byte(msg.Payload), string(metadata))
	}
	query := `INSERT INTO ` + messagesTable + ` (uuid, payload, metadata) VALUES ` + strings.Join(rows, ", ")
	return wsql.Query{Query: query, Args: args}, nil
}

func (s sqliteSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic: params.Topic, ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, fmt.Errorf("outbox: next offset query: %w", err)
	}
	query := `SELECT "offset", uuid, payload, metadata FROM ` + messagesTable +
		` WHERE "offset" > COALESCE((` + next.Query + `), 0) ORDER BY "offset" LIMIT ` + strconv.Itoa(s.batch())
	return wsql.Query{Query: query, Args: next.Args}, nil
}

func (s sqliteSchema) batch() int {
	if s.batchSize <= 0 {
		return defaultBatchSize
	}
	return s.batchSize
}

func (sqliteSchema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	if err := params.Row.Scan(&r.Offset, &r.UUID, &r.Payload, &r.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("outbox: scan outbox row: %w", err)
	}
	r.Msg = message.NewMessage(string(r.UUID), r.Payload)
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &r.Msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("outbox: decode metadata of row %d: %w", r.Offset, err)
		}
	}
	return r, nil
}

func (sqliteSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, errSchemaByMigrations
}

// SubscribeIsolationLevel is the default: SQLite transactions are serializable, and the driver
// takes no other level.
func (sqliteSchema) SubscribeIsolationLevel() sql.IsolationLevel {
	return sql.LevelDefault
}

// sqliteOffsets is the watermill-sql OffsetsAdapter of the SQLite outbox: one row per consumer
// group holding the last relayed offset.
type sqliteOffsets struct{}

func (sqliteOffsets) AckMessageQuery(params wsql.AckMessageQueryParams) (wsql.Query, error) {
	query := `INSERT INTO ` + offsetsTable + ` (consumer_group, offset_acked) VALUES (?, ?)
		ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked`
	return wsql.Query{Query: query, Args: []any{params.ConsumerGroup, params.LastRow.Offset}}, nil
}

// ConsumedMessageQuery is empty: the write lock already keeps a second reader out.
func (sqliteOffsets) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (sqliteOffsets) NextOffsetQuery(params wsql.NextOffsetQueryParams) (wsql.Query, error) {
	query := `SELECT offset_acked FROM ` + offsetsTable + ` WHERE consumer_group = ?`
	return wsql.Query{Query: query, Args: []any{params.ConsumerGroup}}, nil
}

func (sqliteOffsets) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, errSchemaByMigrations
}

// BeforeSubscribingQueries is empty: a group without a row starts at offset 0 (see SelectQuery).
func (sqliteOffsets) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}
