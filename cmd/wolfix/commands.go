package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/metrics"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
)

func (c *cli) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (and, by default, the outbox relay, consumers and reconciler)",
		Long: `Run the HTTP API on WOLFIX_HTTP_ADDR (default :8080). Unless configured otherwise it also
migrates the database, seeds the demo catalog when the catalog is empty, and runs the outbox
relay, the event consumers and the payment reconciler in-process. Stops on SIGINT/SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: c.withConfig(serve),
	}
}

func (c *cli) relayCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "relay",
		Short: "Run the outbox relay alone (for serve replicas started with WOLFIX_RUN_RELAY=false)",
		Args:  cobra.NoArgs,
		RunE:  c.withConfig(relay),
	}
}

func (c *cli) seedCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seed",
		Short: "Add the demo catalog (five products) to the database",
		Args:  cobra.NoArgs,
		RunE: c.withConfig(func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
			return seed(ctx, cfg, log, c.stdout)
		}),
	}
}

// migrateCommand is `wolfix migrate` and its actions up, down and status.
func (c *cli) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply (up), roll back the last group (down) or list (status) database migrations",
		// Without an action (or with an unknown one) it is a usage error, not a silent help page.
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("%w: migrate needs one of up, down, status", errUsage)
			}
			return fmt.Errorf("%w: unknown migrate action %q (want up, down, status)", errUsage, args[0])
		},
	}
	actions := []struct {
		name, short string
		run         func(ctx context.Context, d *database, w io.Writer) error
	}{
		{"up", "Apply every pending migration", func(ctx context.Context, d *database, w io.Writer) error {
			applied, err := sqlstore.Migrate(ctx, d.DB, d.Dialect)
			return report(w, "applied", applied, err)
		}},
		{"down", "Roll back the last migration group", func(ctx context.Context, d *database, w io.Writer) error {
			undone, err := sqlstore.Rollback(ctx, d.DB, d.Dialect)
			return report(w, "rolled back", undone, err)
		}},
		{"status", "List every migration and whether it is applied", printStatus},
	}
	for _, a := range actions {
		cmd.AddCommand(&cobra.Command{
			Use:   a.name,
			Short: a.short,
			Args:  cobra.NoArgs,
			RunE: c.withConfig(func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
				return migrate(ctx, cfg, log, c.stdout, a.run)
			}),
		})
	}
	return cmd
}

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
	stopOps, err := startOps(cfg.OpsAddr, log, []httpapi.Check{{Name: "outbox relay", Probe: p.Relay.Health}}, p.Metrics.Handler())
	if err != nil {
		return err
	}
	defer stopOps() // after the relay has finished its batch
	log.Info("outbox relay running", "broker", cfg.BrokerKind)
	return p.Relay.Run(ctx)
}

// migrate opens the database without migrating it on open and runs one migrate action on it.
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, w io.Writer,
	action func(ctx context.Context, d *database, w io.Writer) error) error {
	cfg.MigrateOnStart = false
	d, cleanup, err := newDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	return action(ctx, d, w)
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
