package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/testenv"
)

func BenchmarkReactionLogBatchSQLite(b *testing.B)   { benchReactionLog(b, "", b.TempDir()) }
func BenchmarkReactionLogBatchPostgres(b *testing.B) { benchReactionLog(b, testenv.PostgresURL(b), "") }

// Sizes of benchReactionLog's batches and of the consumer's history before them.
const (
	reactionBatch   = 20
	handledAlready  = 20000
	benchedConsumer = "notifications"
)

// benchReactionLog times one batch of a consumer's bookkeeping as the in-process broker's lanes
// bring it about: reactionBatch events claimed at once, then their "done" marks written. The
// consumer has handledAlready events behind it in consumed_events, and the table has no
// statistics yet, as when it grew faster than autovacuum analysed it.
func benchReactionLog(b *testing.B, url, dir string) {
	ctx := context.Background()
	db, dialect := benchDB(b, url, dir)
	if err := sqlstore.FillHandledEvents(ctx, db.DB, benchedConsumer, handledAlready); err != nil {
		b.Fatal(err)
	}
	log, err := sqlstore.NewReactionLog(db.DB, dialect)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var handled sync.WaitGroup
		for j := range reactionBatch {
			handled.Go(func() {
				eventID := fmt.Sprintf("bench-%d-%d", i, j)
				if _, err := log.Claim(ctx, benchedConsumer, eventID); err != nil {
					b.Errorf("claim: %v", err)
				}
				if err := log.Done(ctx, benchedConsumer, eventID); err != nil {
					b.Errorf("done: %v", err)
				}
			})
		}
		handled.Wait()
		if err := log.Flush(ctx); err != nil {
			b.Fatalf("flush: %v", err)
		}
	}
	reportRate(b, "batches/s")
}
