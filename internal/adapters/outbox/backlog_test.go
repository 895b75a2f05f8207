package outbox_test

import (
	"testing"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/testenv"
)

// The outbox keeps relayed rows for a day, and the backlog is counted on every scrape and every
// /readyz: the count must read only the rows after the acked position, whatever the table's
// statistics (none here: autovacuum has not analysed the new rows).
func TestBacklogReadsOnlyTheRowsNotRelayed_Postgres(t *testing.T) {
	ctx := t.Context()
	db := openPostgres(t)
	const kept = 20000
	if _, err := db.ExecContext(ctx, `INSERT INTO outbox_messages (uuid, payload, transaction_id)
		SELECT md5(i::text), '\x00', (1000 + i / 3)::text::xid8 FROM generate_series(1, $1::int) AS i`, kept); err != nil {
		t.Fatal(err)
	}
	relay, err := outbox.NewRelay(db, outbox.DialectPostgres, newProbe(nil), testLogger(), outbox.RelayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := relay.Backlog(ctx); err != nil || n != kept {
		t.Fatalf("backlog before the first ack: %d, %v; want all %d", n, err, kept)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO outbox_offsets (consumer_group, offset_acked, last_processed_transaction_id)
		SELECT $1, "offset", transaction_id FROM outbox_messages
		ORDER BY transaction_id DESC, "offset" DESC OFFSET 5 LIMIT 1`, outbox.RelayGroup); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.Backlog(ctx); err != nil || n != 5 {
		t.Fatalf("backlog after acking all but 5: %d, %v; want 5", n, err)
	}

	// pg_stat_xact_user_tables may still hold the connection's earlier, unflushed counts: the
	// test reads them before and after, on one connection.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	seqBefore, idxBefore := testenv.PostgresTableReads(t, tx, "outbox_messages")
	var n int64
	if err := tx.QueryRowContext(ctx, outbox.BacklogQuery(outbox.DialectPostgres), outbox.RelayGroup).Scan(&n); err != nil {
		t.Fatal(err)
	}
	seqAfter, idxAfter := testenv.PostgresTableReads(t, tx, "outbox_messages")
	if seqRead, idxFetched := seqAfter-seqBefore, idxAfter-idxBefore; seqRead != 0 || idxFetched > 5 {
		t.Errorf("counting a backlog of %d read %d rows by scan and fetched %d by index; want 0 and at most 5", n, seqRead, idxFetched)
	}
}
