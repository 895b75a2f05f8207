// Command wolfix is the Wolfix orders and payments service: one binary whose subcommands serve the
// API (with the outbox relay and consumers in-process by default), run the relay alone, migrate
// the database, seed the demo catalog, and mint development tokens. The command line is built
// with cobra; this file holds the root command, the exit codes and the version.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/metrics"
)

// The exit codes, as the help text and the README document them.
const (
	exitOK      = 0 // the command did what it was asked
	exitFailure = 1 // it failed while running (a database, broker or port was unavailable…)
	exitUsage   = 2 // the command line or the configuration is wrong; nothing was started
)

const exitCodesHelp = `Exit codes:
  0  success
  1  runtime failure (the command started and failed)
  2  usage or configuration error (nothing was started)`

// version is the release this binary was built as; `make build` sets it with
// -ldflags "-X main.version=…". Empty means: the module version the Go toolchain recorded.
var version string

func main() {
	tuneGC()
	registerBrokers()
	registerPaymentProviders()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a mistake in the command line or the configuration; it exits with status 2.
var errUsage = errors.New("usage")

// cli is the state the commands share: where they write, the --config flag, and (once a command
// runs) the configuration and the logger built from it.
type cli struct {
	stdout, stderr io.Writer
	configFile     string
	log            *slog.Logger
	started        bool // a command body began; an error before that is cobra's, i.e. a usage error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	root := c.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case err == nil:
		return exitOK
	case !c.started || errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "wolfix: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	default:
		c.log.Error("wolfix stopped", "command", cmd.CommandPath(), "error", err)
		return exitFailure
	}
}

// rootCommand is `wolfix` and every subcommand. A new command is a constructor taking the cli,
// added here; its body goes through c.withConfig so --help never loads or touches anything.
func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "wolfix",
		Short: "The Wolfix orders and payments service",
		Long: `The Wolfix orders and payments service.

Configuration: configs/wolfix.yaml, or the file --config (or $WOLFIX_CONFIG) names,
overridden by WOLFIX_* environment variables (see the README's configuration table).`,
		Version:           versionString(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetUsageTemplate(strings.TrimRight(root.UsageTemplate(), "\n") + "\n\n" + exitCodesHelp + "\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %v", errUsage, err) })
	root.PersistentFlags().StringVar(&c.configFile, "config", "",
		"configuration file (default configs/wolfix.yaml when present; same as $WOLFIX_CONFIG)")
	root.AddCommand(c.serveCommand(), c.relayCommand(), c.migrateCommand(), c.seedCommand(), c.pruneCommand(), c.tokenCommand())
	return root
}

// withConfig turns a command body into cobra's RunE: it loads the configuration (a bad one is a
// usage error naming the key) and builds the logger only when the command really runs.
func (c *cli) withConfig(body func(ctx context.Context, cfg config.Config, log *slog.Logger) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		c.started = true
		cfg, err := config.LoadFile(c.configFile)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		c.log = newLogger(cfg, c.stderr)
		return body(cmd.Context(), cfg, c.log)
	}
}

// versionString is the version, the commit and the Go version this binary was built with.
func versionString() string {
	b := metrics.ReadBuild(version)
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("wolfix %s\ncommit %s\n%s %s/%s", b.Version, commit, b.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// invocation is how to run this binary again, for the hints printed at start-up: the path it was
// started by, or `go run ./cmd/wolfix` when it runs from go run's temporary build directory.
func invocation() string {
	exe, err := os.Executable()
	if err == nil && filepath.Base(filepath.Dir(exe)) == "exe" && strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/wolfix"
	}
	return os.Args[0]
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
