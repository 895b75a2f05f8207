package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/app"
)

// server is `wolfix serve`: the HTTP API, plus the outbox relay and the reconciler in-process.
type server struct {
	Cfg       config.Config
	Log       *slog.Logger
	HTTP      *httpapi.Server
	App       *app.Application
	Relay     *outbox.Relay
	Consumers *consumers.Router
	Payments  *payments
	Pruner    *pruner // deletes old rows every WOLFIX_PRUNE_EVERY (0: never)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	s, cleanup, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	return s.run(ctx)
}

// run serves until ctx ends, then shuts down in order: deliver queued sandbox events (to this
// server, still listening), stop taking requests and finish those in flight, finish the
// background work, close the adapters (cleanup).
func (s *server) run(ctx context.Context) error {
	if s.Cfg.SeedsDemo() {
		if n, err := s.App.Seeder.SeedIfEmpty(ctx); err != nil {
			return fmt.Errorf("seed demo catalog: %w", err)
		} else if n > 0 {
			s.Log.Info("demo catalog created", "products", n)
		}
	}
	ln, err := s.listen()
	if err != nil {
		return err
	}
	base := s.publicURL(ln.Addr())
	if s.Payments.Delivery != nil {
		s.Payments.Delivery.SetTarget(base + "/webhooks/" + sandbox.ProviderName)
	}
	s.announce(base)
	if err := startPprof(ctx, s.Cfg.PprofAddr, s.Log); err != nil {
		return err
	}

	stopBackground, err := s.startBackground(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}

	httpServer := &http.Server{Handler: s.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	httpServer.RegisterOnShutdown(s.App.Orders.EndWaits) // held reads (GET /api/orders/{id}?wait) answer 304 at once
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		s.Log.Info("shutting down")
		if s.Payments.Delivery != nil { // deliver queued sandbox events while this server still answers its own webhooks
			_ = s.Payments.Delivery.Close()
		}
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = httpServer.Shutdown(shutdownCtx)
		cancel()
	}
	stopBackground()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// listen opens WOLFIX_HTTP_ADDR, wrapped in TLS when a certificate and key are configured.
func (s *server) listen() (net.Listener, error) {
	var tlsConfig *tls.Config
	if s.Cfg.ServesTLS() {
		var err error
		if tlsConfig, err = serverTLS(s.Cfg.TLSCertFile, s.Cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	ln, err := net.Listen("tcp", s.Cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (WOLFIX_HTTP_ADDR): %w", s.Cfg.HTTPAddr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, nil
}

// startBackground starts the consumers, then (once they are subscribed, so no event finds an
// empty topic) the relay and the reconciler. The returned stop ends them in the reverse order:
// the relay first, so nothing is published to consumers that are gone.
func (s *server) startBackground(ctx context.Context) (stop func(), err error) {
	consumersCtx, stopConsumers := context.WithCancel(ctx)
	consumersDone := s.spawn(consumersCtx, "consumers", s.Consumers.Run)
	select {
	case <-s.Consumers.Running():
	case <-time.After(30 * time.Second):
		stopConsumers()
		return nil, errors.New("the event consumers did not start within 30s")
	}
	workCtx, stopWork := context.WithCancel(ctx)
	var work []<-chan struct{}
	if s.Cfg.RunRelay {
		work = append(work, s.spawn(workCtx, "outbox relay", s.Relay.Run))
	}
	work = append(work, s.spawn(workCtx, "reconciler", func(ctx context.Context) error {
		return s.App.Reconciler.Run(ctx, s.Cfg.ReconcileEvery)
	}))
	// Webhook events are recorded by the request and processed here, at once and after a crash.
	work = append(work, s.spawn(workCtx, "webhook inbox", s.App.Webhooks.Run))
	if s.Cfg.PruneEvery > 0 {
		work = append(work, s.spawn(workCtx, "pruner", func(ctx context.Context) error {
			return s.Pruner.run(ctx, s.Cfg.PruneEvery)
		}))
	}
	return func() {
		stopWork()
		for _, done := range work {
			<-done
		}
		stopConsumers()
		<-consumersDone
	}, nil
}

// spawn runs fn in the background and closes the returned channel when it has returned.
func (s *server) spawn(ctx context.Context, name string, fn func(context.Context) error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.Log.Error("background task stopped", "task", name, "error", err)
		}
	}()
	return done
}

// publicURL is where this process can be reached: WOLFIX_PUBLIC_URL, or the listening address
// (an unspecified host becomes 127.0.0.1, so the sandbox can deliver to itself).
func (s *server) publicURL(addr net.Addr) string {
	if s.Cfg.PublicURL != "" {
		return strings.TrimRight(s.Cfg.PublicURL, "/")
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if s.Cfg.ServesTLS() {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

func (s *server) announce(base string) {
	s.Log.Info("wolfix is serving", "url", base, "provider", s.Payments.Providers.Default().Name(), "providers", s.Payments.Providers.Names(),
		"broker", s.Cfg.BrokerKind, "relay", s.Cfg.RunRelay)
	if s.Payments.Sandbox != nil {
		s.Log.Info("sandbox payments: confirm with POST " + base + "/sandbox/payment-intents/{id}/confirm")
	}
	s.Log.Info("get a token: " + invocation() + " token --sub customer-1 --role customer (or --role admin, --role seller)")
}
