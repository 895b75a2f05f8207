// Command wolfix is the Wolfix orders and payments service: one binary whose subcommands serve the
// API (with the outbox relay and consumers in-process by default), run the relay alone, migrate
// the database, seed the demo catalog, and mint development tokens.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/wolfix/orders/internal/adapters/config"
)

const usage = `usage: wolfix <command> [flags]

commands:
  serve                     run the HTTP API (and, by default, the outbox relay and consumers)
  relay                     run the outbox relay alone
  migrate up|down|status    apply, roll back (last group) or list database migrations
  seed                      add the demo catalog
  token --sub ID --role R   print a development JWT (R: customer, seller, admin; repeatable)

Configuration: configs/wolfix.yaml (or $WOLFIX_CONFIG), overridden by WOLFIX_* variables.
`

func main() {
	registerBrokers()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a mistake in the command line; it exits with status 2.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintf(stderr, "wolfix: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	err = dispatch(ctx, cfg, log, args, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "wolfix: %v\n\n%s", err, usage)
		return 2
	default:
		log.Error("wolfix stopped", "command", args[0], "error", err)
		return 1
	}
}

func dispatch(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, log)
	case "relay":
		return relay(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log, args[1:], stdout)
	case "seed":
		return seed(ctx, cfg, log, stdout)
	case "token":
		return token(cfg, args[1:], stdout)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(withRequestContext(h))
}
