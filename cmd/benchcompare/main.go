// Command benchcompare is `make bench-compare`: in one run it measures the database floor (pgbench
// running the minimal create-order transaction on the service's own tables, prepared statements)
// and then the real `wolfix serve` under cmd/loadgen (cash, then the card flow) on the same
// Postgres server, and prints orders/s, the ratio to the floor, latency percentiles,
// confirm→Paid, peak RSS, CPU-ms per order (counted until the load's events were relayed), the
// events the load left in the outbox and start-up time. The machine is shared, so absolute
// figures are noise; the ratio to the floor measured in the same run is the figure to steer by.
// Each measurement repeats -runs times and the report gives medians.
//
// It needs psql and pgbench (Debian's postgresql-client) and a Postgres it may create and drop
// databases on; every database it creates has a random name and is dropped at the end. With
// -sqlite it measures the embedded default instead: the service on a fresh SQLite file of its own,
// and as the floor the same transaction run from Go through database/sql on a migrated SQLite file
// (SQLite has no pgbench), labelled as such in the report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/loadreport"
)

// settings are the command line.
type settings struct {
	postgresURL string
	runs        int
	duration    time.Duration
	customers   int
	products    int
	lines       int
	sqlite      bool
	modes       []string
	serveEnv    []string
}

// floorFigures are one floor measurement: its transactions per second and their latencies, the
// yardstick for the service's orders per second and for its latencies at the same concurrency.
type floorFigures struct {
	tps     float64
	latency loadreport.Distribution
}

// backend is the database a run measures: the floor on it, and a fresh database of it for the
// service each run.
type backend interface {
	floorLabel() string
	floor(ctx context.Context, bins binaries, s settings) (floorFigures, error)
	// serviceDatabase makes the service's database and returns the environment naming it and a
	// function that removes it.
	serviceDatabase(ctx context.Context, bins binaries) ([]string, func(), error)
}

func main() {
	s, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, s, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("benchcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := settings{modes: []string{"cash", "card-flow"}}
	fs.StringVar(&s.postgresURL, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"a Postgres (loopback) where throwaway databases may be created")
	fs.IntVar(&s.runs, "runs", 3, "how many times to repeat every measurement (the report shows medians)")
	fs.DurationVar(&s.duration, "duration", 15*time.Second, "length of each measurement")
	fs.IntVar(&s.customers, "customers", 32, "concurrent clients, for pgbench and for loadgen alike")
	fs.IntVar(&s.products, "products", 1000, "products the service's orders spread over: as many as the floor's (fill.sql), so both contend alike")
	fs.BoolVar(&s.sqlite, "sqlite", false, "measure the embedded default (SQLite) instead of Postgres; the floor is then run from Go")
	fs.IntVar(&s.lines, "lines", 2, "lines per order, like the floor's two stock updates")
	fs.Func("serve-env", "KEY=VALUE for `wolfix serve` (repeatable), e.g. WOLFIX_BROKER_KIND=nats", func(kv string) error {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", kv)
		}
		s.serveEnv = append(s.serveEnv, kv)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return settings{}, err
	}
	switch {
	case s.runs < 1 || s.runs > 9:
		return settings{}, errors.New("-runs must be between 1 and 9")
	case s.duration < time.Second || s.duration > 5*time.Minute:
		return settings{}, errors.New("-duration must be between 1s and 5m")
	case s.customers < 1 || s.customers > 256:
		return settings{}, errors.New("-customers must be between 1 and 256")
	}
	return s, requireLoopback(s.postgresURL)
}

// run builds the binaries, then measures the floor and the service -runs times, interleaved so
// that a change in the machine's load touches both alike.
func run(ctx context.Context, s settings, out io.Writer) error {
	bins, err := buildBinaries(ctx)
	if err != nil {
		return err
	}
	defer bins.remove()
	db, closeDB, err := openBackend(ctx, s)
	if err != nil {
		return err
	}
	defer closeDB()
	var rounds []round
	for i := range s.runs {
		fmt.Fprintf(out, "run %d of %d: %s, %d clients, %s\n", i+1, s.runs, db.floorLabel(), s.customers, s.duration)
		r := round{}
		if r.floor, err = db.floor(ctx, bins, s); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		fmt.Fprintf(out, "  floor: %.0f tps, p50 %.1f ms, p99 %.1f ms\n", r.floor.tps, r.floor.latency.P50, r.floor.latency.P99)
		if r.service, err = measureService(ctx, db, bins, s, out); err != nil {
			return fmt.Errorf("service: %w", err)
		}
		rounds = append(rounds, r)
	}
	report(out, s, db.floorLabel(), rounds)
	return nil
}

// openBackend returns the backend -sqlite chose and a function that closes it.
func openBackend(ctx context.Context, s settings) (backend, func(), error) {
	if s.sqlite {
		return sqliteBackend{}, func() {}, nil
	}
	pg, err := openAdmin(ctx, s.postgresURL)
	if err != nil {
		return nil, nil, err
	}
	return postgresBackend{pg: pg}, pg.close, nil
}
