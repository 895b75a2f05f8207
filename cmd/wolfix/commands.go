package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/metrics"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
)

// relayProcess is `wolfix relay`: the outbox relay alone, so it scales apart from the API.
type relayProcess struct {
	Relay   *outbox.Relay
	Metrics *metrics.Metrics // the relay's, build, runtime and database pool series
}

func relay(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	p, cleanup, err := newRelayProcess(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	log.Info("outbox relay running", "broker", cfg.BrokerKind)
	return p.Relay.Run(ctx)
}

// migrate runs `wolfix migrate up|down|status`.
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: migrate needs one of up, down, status", errUsage)
	}
	cfg.MigrateOnStart = false
	d, cleanup, err := newDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	switch args[0] {
	case "up":
		applied, err := sqlstore.Migrate(ctx, d.DB, d.Dialect)
		return report(stdout, "applied", applied, err)
	case "down":
		undone, err := sqlstore.Rollback(ctx, d.DB, d.Dialect)
		return report(stdout, "rolled back", undone, err)
	case "status":
		return printStatus(ctx, d, stdout)
	}
	return fmt.Errorf("%w: unknown migrate action %q", errUsage, args[0])
}

func report(w io.Writer, verb string, names []string, err error) error {
	if err != nil {
		return err
	}
	if len(names) == 0 {
		_, err = fmt.Fprintf(w, "nothing %s\n", verb)
		return err
	}
	for _, n := range names {
		if _, err := fmt.Fprintf(w, "%s %s\n", verb, n); err != nil {
			return err
		}
	}
	return nil
}

func printStatus(ctx context.Context, d *database, w io.Writer) error {
	states, err := sqlstore.Status(ctx, d.DB, d.Dialect)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "MIGRATION\tSTATE\tAPPLIED AT\n")
	for _, s := range states {
		state, at := "pending", ""
		if s.Applied {
			state, at = fmt.Sprintf("applied (group %d)", s.GroupID), s.MigratedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, state, at)
	}
	return tw.Flush()
}

// seed runs `wolfix seed`: the demo catalog, on demand.
func seed(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	s, cleanup, err := newSeeder(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	n, err := s.Seed(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "added %d demo products\n", n)
	return err
}
