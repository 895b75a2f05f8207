package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/google/wire"
	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/metrics"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/smtpnotify"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/telemetry"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
)

// The provider sets, one per adapter, that wire.go assembles. Each turns config.Config into the
// adapter's own configuration; the adapters themselves know nothing of wire or of config.Config.
var (
	databaseSet = wire.NewSet(provideDatabase, provideStore,
		wire.Bind(new(app.Store), new(*sqlstore.Store)))
	outboxSet   = wire.NewSet(provideOutboxOpener, provideBroker, provideRelay, provideConsumers)
	paymentsSet = wire.NewSet(providePayments, provideProviders)
	appSet      = wire.NewSet(provideClock, providePricing, provideReconcilerConfig, provideInboxConfig, provideCheckoutSlots,
		provideMetrics, wire.Bind(new(app.Observer), new(*metrics.Metrics)),
		wire.Struct(new(app.Dependencies), "*"), app.New)
	httpSet = wire.NewSet(provideJWTSecret, provideAuthenticator, provideHTTPServer)
)

// database is the open database and its dialect.
type database struct {
	DB      *bun.DB
	Dialect sqlstore.Dialect
}

// provideDatabase opens the configured database and, when configured to, migrates it.
func provideDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*database, func(), error) {
	db, dialect, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = db.Close() }
	if cfg.MigrateOnStart {
		applied, err := sqlstore.Migrate(ctx, db, dialect)
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("migrate on start: %w", err)
		}
		if len(applied) > 0 {
			log.Info("database migrated", "dialect", dialect, "applied", applied)
		}
	}
	return &database{DB: db, Dialect: dialect}, cleanup, nil
}

func provideOutboxOpener(d *database, log *slog.Logger) (outbox.Opener, error) {
	return outbox.NewOpener(string(d.Dialect), log)
}

func provideStore(d *database, opener outbox.Opener) *sqlstore.Store {
	return sqlstore.NewStore(d.DB, d.Dialect, sqlstore.OutboxOpener(opener))
}

// provideBroker opens the broker of the kind WOLFIX_BROKER_KIND names, among those registered
// (brokers.go), with the settings it reads from cfg.
func provideBroker(ctx context.Context, cfg config.Config, log *slog.Logger) (broker.Broker, func(), error) {
	b, err := broker.Open(ctx, cfg.BrokerKind, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { _ = b.Close() }, nil
}

func provideRelay(cfg config.Config, d *database, b broker.Broker, log *slog.Logger) (*outbox.Relay, func(), error) {
	r, err := outbox.NewRelay(d.DB.DB, string(d.Dialect), b.Publisher(), log,
		outbox.RelayConfig{BatchSize: cfg.RelayBatchSize, StuckAfter: cfg.RelayStuckAfter})
	if err != nil {
		return nil, nil, err
	}
	return r, func() { _ = r.Close() }, nil
}

// provideConsumers builds the in-process consumers of the integration events, each deduplicated
// by event id in the database: customer notifications (by e-mail with WOLFIX_SMTP_URL, else
// logged) and fulfillment (a paid order is handed to the warehouse).
func provideConsumers(cfg config.Config, d *database, b broker.Broker, store *sqlstore.Store, application *app.Application,
	log *slog.Logger) (*consumers.Router, error) {
	reactionLog, err := sqlstore.NewReactionLog(d.DB.DB, d.Dialect)
	if err != nil {
		return nil, err
	}
	router, err := consumers.NewRouter(b, b.Publisher(), consumers.NewInbox(reactionLog), log, consumers.RouterConfig{})
	if err != nil {
		return nil, err
	}
	var notifier app.Notifier = consumers.LogNotifier{Logger: log}
	if cfg.SMTPURL != "" {
		if notifier, err = smtpnotify.New(cfg.SMTPURL, store.Orders()); err != nil {
			return nil, err
		}
	}
	if err := router.React(append(app.NotificationReactions(notifier), application.Fulfillment.Reactions()...)...); err != nil {
		return nil, err
	}
	return router, nil
}

func provideClock() app.Clock { return app.SystemClock{} }

func providePricing(cfg config.Config) (app.Pricing, error) {
	cur, err := money.ParseCurrency(cfg.Currency)
	if err != nil {
		return app.Pricing{}, err
	}
	fees := map[order.DeliveryMethod]int64{order.DeliveryCourier: cfg.DeliveryFeeCourier,
		order.DeliveryBranch: cfg.DeliveryFeeBranch, order.DeliveryLocker: cfg.DeliveryFeeLocker}
	p := app.Pricing{Currency: cur, Fees: map[order.DeliveryMethod]money.Money{}}
	for method, minor := range fees {
		if p.Fees[method], err = money.New(minor, cur); err != nil {
			return app.Pricing{}, fmt.Errorf("delivery fee for %s: %w", method, err)
		}
	}
	return p, nil
}

func provideReconcilerConfig(cfg config.Config) app.ReconcilerConfig {
	return app.ReconcilerConfig{After: cfg.ReconcileAfter, TTL: cfg.PaymentTTL}
}

func provideInboxConfig(cfg config.Config) app.InboxConfig {
	return app.InboxConfig{Lease: cfg.InboxLease, SweepEvery: cfg.InboxSweepEvery, Workers: cfg.InboxWorkers}
}

// provideCheckoutSlots bounds the card checkouts using the database at once: by default one per
// CPU the process may use, since what the bound protects (settlement's share of CPU) scales so.
func provideCheckoutSlots(cfg config.Config) *app.CheckoutSlots {
	slots := cfg.CardCheckoutSlots
	if slots == 0 {
		slots = runtime.GOMAXPROCS(0)
	}
	return app.NewCheckoutSlots(app.CheckoutSlotsConfig{Slots: slots, MaxWait: cfg.CardCheckoutMaxWait})
}

// provideAuthenticator verifies bearer tokens: RS256/ES256 against WOLFIX_JWKS_URL's keys when it
// is set (a real identity provider), else HS256 with the service's secret; issuer and audience
// are checked when configured.
func provideAuthenticator(ctx context.Context, cfg config.Config, secret JWTSecret, log *slog.Logger) (*auth.Authenticator, func(), error) {
	opts := auth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Now: time.Now, JWKS: auth.JWKSOptions{Log: log}}
	if cfg.JWKSURL != "" {
		return auth.NewJWKSAuthenticator(ctx, cfg.JWKSURL, opts)
	}
	a, err := auth.NewSecretAuthenticator(string(secret), opts)
	return a, func() {}, err
}

func provideHTTPServer(cfg config.Config, log *slog.Logger, limits httpapi.RateLimits, application *app.Application, authn *auth.Authenticator,
	secret JWTSecret, store *sqlstore.Store, relay *outbox.Relay, b broker.Broker, p *payments, pricing app.Pricing, m *metrics.Metrics) (*httpapi.Server, error) {
	checks := []httpapi.Check{{Name: "database", Probe: store.Ping}, {Name: "broker", Probe: b.Health}}
	if cfg.RunRelay {
		checks = append(checks, httpapi.Check{Name: "outbox relay", Probe: relay.Health})
	}
	hc := httpapi.Config{App: application, Auth: authn, RateLimits: limits, Idempotency: store.Idempotency(), Log: log,
		Checks: checks, Metrics: m.Handler(), Requests: m, Traced: telemetry.Active(),
		Public: httpapi.PublicConfig{StripePublishableKey: cfg.StripePublishableKey,
			Provider: p.Providers.Default().Name(), Currency: pricing.Currency.Code()},
		DevSignIn: devSignIn(cfg, secret), TrustedProxies: cfg.TrustedProxies,
		IdempotencyLease: cfg.IdempotencyLease, IdempotencyTTL: cfg.IdempotencyTTL}
	if p.Sandbox != nil { // only a real sandbox: a typed nil would still enable the route
		hc.Sandbox = p.Sandbox
	}
	return httpapi.NewServer(hc)
}
