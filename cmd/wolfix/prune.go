package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
)

// pruneTarget is one kind of row the retention deletes: deleteBatch removes at most limit rows
// older than olderThan in one short statement.
type pruneTarget struct {
	name        string
	olderThan   time.Duration
	deleteBatch func(ctx context.Context, olderThan time.Duration, limit int) (int64, error)
}

// pruner is the retention: `wolfix prune` runs it once, `wolfix serve` every WOLFIX_PRUNE_EVERY.
// It deletes in batches of WOLFIX_PRUNE_BATCH_SIZE rows, one short statement each with a pause
// between them, so it never holds locks on a hot table (the outbox, the inbox) for long.
type pruner struct {
	log     *slog.Logger
	batch   int
	pause   time.Duration
	targets []pruneTarget
}

// pruneBatchPause is the breath between two full batches, left to the traffic.
const pruneBatchPause = 10 * time.Millisecond

func providePruner(cfg config.Config, d *database, store *sqlstore.Store, log *slog.Logger) (*pruner, error) {
	reactionLog, err := sqlstore.NewReactionLog(d.DB.DB, d.Dialect)
	if err != nil {
		return nil, err
	}
	relayed := func(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
		return outbox.DeleteRelayed(ctx, d.DB.DB, string(d.Dialect), olderThan, limit)
	}
	expiredKeys := func(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
		n, err := store.Idempotency().PruneExpired(ctx, time.Now().Add(-olderThan), limit)
		return int64(n), err
	}
	return &pruner{log: log, batch: cfg.PruneBatchSize, pause: pruneBatchPause, targets: []pruneTarget{
		{"relayed outbox rows", cfg.PruneOutboxAfter, relayed},
		{"expired idempotency keys", cfg.PruneIdempotencyAfter, expiredKeys},
		{"processed webhook inbox rows", cfg.PruneWebhooksAfter, store.DeleteProcessedWebhooks},
		{"consumed-event rows", cfg.PruneConsumedAfter, reactionLog.DeleteHandled},
	}}, nil
}

// pruned is what one pass deleted of one target.
type pruned struct {
	name    string
	deleted int64
}

// once makes one pass over every target and returns what went; it stops at the first error, or
// when ctx ends.
func (p *pruner) once(ctx context.Context) ([]pruned, error) {
	var out []pruned
	for _, t := range p.targets {
		n, err := p.drain(ctx, t)
		out = append(out, pruned{t.name, n})
		if err != nil {
			return out, err
		}
		if n > 0 {
			p.log.Info("pruned old rows", "rows", t.name, "deleted", n, "older_than", t.olderThan)
		}
	}
	return out, nil
}

// drain deletes batch after batch until one comes back short.
func (p *pruner) drain(ctx context.Context, t pruneTarget) (int64, error) {
	var total int64
	for {
		n, err := t.deleteBatch(ctx, t.olderThan, p.batch)
		total += n
		if err != nil || n < int64(p.batch) {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(p.pause):
		}
	}
}

// run prunes every interval until ctx ends; a failed pass is logged and tried again next time.
func (p *pruner) run(ctx context.Context, every time.Duration) error {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
			if _, err := p.once(ctx); err != nil && !errors.Is(err, context.Canceled) {
				p.log.Warn("pruning failed; trying again next time", "error", err)
			}
		}
	}
}

func (c *cli) pruneCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Delete old relayed outbox rows, idempotency keys, processed webhooks and consumed events, once",
		Long: `Delete, in batches of WOLFIX_PRUNE_BATCH_SIZE rows, the relayed outbox rows older than
WOLFIX_PRUNE_OUTBOX_AFTER, the idempotency keys expired WOLFIX_PRUNE_IDEMPOTENCY_AFTER ago, the processed
webhook inbox rows older than WOLFIX_PRUNE_WEBHOOKS_AFTER and the handled consumed-event rows older
than WOLFIX_PRUNE_CONSUMED_AFTER, then print how many of each went. Unrelayed, unprocessed and
in-progress rows always stay. wolfix serve does the same every WOLFIX_PRUNE_EVERY.`,
		Args: cobra.NoArgs,
		RunE: c.withConfig(func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
			return prune(ctx, cfg, log, c.stdout)
		}),
	}
}

// prune runs `wolfix prune`: one pass of the retention, and a table of what it deleted.
func prune(ctx context.Context, cfg config.Config, log *slog.Logger, w io.Writer) error {
	p, cleanup, err := newPruner(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	got, err := p.once(ctx)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ROWS\tOLDER THAN\tDELETED\n")
	for i, pr := range got {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", pr.name, p.targets[i].olderThan, pr.deleted)
	}
	return errors.Join(err, tw.Flush())
}
