// Command loadgen drives a running wolfix over HTTP on the loopback interface and prints what it
// saw: requests/s, orders/s, errors by endpoint, status and problem code, latency percentiles per
// endpoint and, for card orders, the time from the sandbox confirmation to the order showing Paid.
// It owns no service code; it is a client like any checkout, and it prints figures instead of
// asserting them, so that speed is measured where it can be read rather than in tests that flake.
//
// In card-flow each customer reads its order until the webhook made it Paid with a long poll: a
// first GET learns the order's ETag, then GETs with If-None-Match and ?wait (-wait) are answered
// the moment the order changes. -wait 0 polls instead, a GET every -poll, as clients did before.
//
// Every run is bounded: it stops after -duration, or sooner after -orders orders, or on Ctrl-C.
// It refuses any base URL whose host is not a loopback address, and its dialer refuses any
// connection that would leave the machine.
//
//	go run ./cmd/wolfix serve &
//	go run ./cmd/loadgen -mode card-flow -customers 8 -duration 20s
//
// Tokens: -token uses one bearer token for every customer; -jwt-secret (or WOLFIX_JWT_SECRET)
// mints them in process; otherwise loadgen runs `wolfix token` (the -wolfix binary, or one it
// builds from ./cmd/wolfix), which reads the same secret as the server run from the same directory
// with the same environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/wolfix/orders/internal/app"
)

// limits keep a run bounded whatever the flags say.
const (
	maxDuration  = time.Hour
	maxCustomers = 1024
	maxProducts  = 10_000
)

// config is the parsed command line.
type config struct {
	base       string
	customers  int
	duration   time.Duration
	orders     int64
	mode       mode
	token      string
	jwtSecret  string
	wolfix     string
	product    string
	products   int
	lines      int
	jsonOut    string
	card       string
	poll       time.Duration
	wait       time.Duration
	paidWithin time.Duration
	timeout    time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var modeName string
	fs.StringVar(&cfg.base, "base", "http://127.0.0.1:8080", "base URL of the running wolfix (loopback only)")
	fs.IntVar(&cfg.customers, "customers", 8, "concurrent customers, each running its flow in a closed loop")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to run (at most 1h)")
	fs.Int64Var(&cfg.orders, "orders", 0, "stop after this many orders (read mode: rounds; 0: only -duration bounds the run)")
	fs.StringVar(&modeName, "mode", string(modeCash), "workload: cash | card-flow | read")
	fs.StringVar(&cfg.token, "token", "", "one bearer token (customer role) for every customer; needs -product")
	fs.StringVar(&cfg.jwtSecret, "jwt-secret", os.Getenv("WOLFIX_JWT_SECRET"), "mint tokens with this HS256 secret (default $WOLFIX_JWT_SECRET)")
	fs.StringVar(&cfg.wolfix, "wolfix", "", "wolfix binary whose `token` command mints tokens (default: build ./cmd/wolfix)")
	fs.StringVar(&cfg.product, "product", "", "product id to order (default: create -products products with a big stock as a seller)")
	fs.IntVar(&cfg.products, "products", 1, "how many products to create and spread orders over (1: every order reserves the same row, the contended case)")
	fs.IntVar(&cfg.lines, "lines", 1, "order lines per order, each a different product (at most -products)")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the figures as JSON to this file (for make bench-compare)")
	fs.StringVar(&cfg.card, "card", "4242 4242 4242 4242", "sandbox test card for card-flow")
	fs.DurationVar(&cfg.wait, "wait", 5*time.Second, "card-flow: long-poll each GET for Paid up to this long (If-None-Match + ?wait; whole seconds, at most 30s, below -timeout); 0 polls every -poll instead")
	fs.DurationVar(&cfg.poll, "poll", 20*time.Millisecond, "card-flow with -wait 0: interval between GETs while waiting for Paid (the polls are load too); with a long poll, the pause after a failed GET")
	fs.DurationVar(&cfg.paidWithin, "paid-within", 10*time.Second, "card-flow: give up waiting for the webhook after this, then PATCH /paid")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	m, err := parseMode(modeName)
	if err != nil {
		return config{}, err
	}
	cfg.mode = m
	return cfg, cfg.validate()
}

func (c config) validate() error {
	if err := checkLoopbackURL(c.base); err != nil {
		return err
	}
	switch {
	case c.customers < 1 || c.customers > maxCustomers:
		return fmt.Errorf("-customers must be between 1 and %d", maxCustomers)
	case c.duration <= 0 || c.duration > maxDuration:
		return fmt.Errorf("-duration must be positive and at most %s", maxDuration)
	case c.orders < 0:
		return errors.New("-orders must not be negative")
	case c.token != "" && c.product == "":
		return errors.New("-token needs -product (creating a product needs a seller token)")
	case c.poll <= 0 || c.paidWithin <= 0 || c.timeout <= 0:
		return errors.New("-poll, -paid-within and -timeout must be positive")
	case c.wait < 0 || c.wait > app.MaxOrderWait || c.wait%time.Second != 0 || c.wait > 0 && c.wait >= c.timeout:
		return fmt.Errorf("-wait must be whole seconds from 0 to %s, and below -timeout", app.MaxOrderWait)
	case c.products < 1 || c.products > maxProducts:
		return fmt.Errorf("-products must be between 1 and %d", maxProducts)
	case c.lines < 1 || c.lines > c.products:
		return errors.New("-lines must be between 1 and -products")
	case c.product != "" && (c.products > 1 || c.lines > 1):
		return errors.New("-product names one product: it goes without -products and -lines")
	}
	return nil
}

// run prepares identities and the product, runs the workload until a bound is reached, and
// prints the report.
func run(ctx context.Context, cfg config, out io.Writer) error {
	client := newClient(cfg.base, cfg.timeout, cfg.customers)
	tokens, err := newTokenSource(ctx, cfg)
	if err != nil {
		return err
	}
	defer tokens.close()
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	w, err := prepare(setupCtx, cfg, client, tokens)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loadgen: %s, %d customers, up to %s%s against %s (%d products, %d lines per order)\n",
		cfg.mode, cfg.customers, cfg.duration, ordersBound(cfg.orders), cfg.base, len(w.productIDs), cfg.lines)
	res := w.run(ctx)
	res.print(out, cfg)
	if cfg.jsonOut != "" {
		return res.writeJSON(cfg.jsonOut)
	}
	return nil
}

func ordersBound(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" or %d orders", n)
}
