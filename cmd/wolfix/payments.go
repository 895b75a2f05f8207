package main

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
)

// registerPaymentProviders registers the payment providers WOLFIX_PAYMENT_PROVIDER and
// WOLFIX_PAYMENT_PROVIDERS may name, before the configuration is read and validated against them,
// in the order WOLFIX_PAYMENT_PROVIDER=auto prefers them (the sandbox, which auto always accepts,
// last). A new provider is a package that passes the gateway suite, and one line here
// (docs/extending.md).
func registerPaymentProviders() {
	paymentprovider.Register(stripe.Registration())
	paymentprovider.Register(sandbox.Registration())
}

// payments are the enabled providers (WOLFIX_PAYMENT_PROVIDER, the default, and the others
// WOLFIX_PAYMENT_PROVIDERS lists), opened through the registry, and the sandbox's parts the HTTP
// server and serve use: its confirm page, and its Delivery of signed events to this replica's own
// webhook endpoint (the sandbox's intents live in the service's database, so any replica can
// confirm any intent).
type payments struct {
	Providers *app.Providers
	Sandbox   *sandbox.Gateway  // nil unless the sandbox is enabled
	Delivery  *sandbox.Delivery // nil unless the sandbox is enabled and delivers webhooks
}

func providePayments(ctx context.Context, cfg config.Config, d *database, log *slog.Logger) (*payments, func(), error) {
	enabled, err := paymentprovider.Open(ctx, paymentprovider.Env{Settings: cfg, Logger: log, Enabled: cfg.Providers(),
		Stores: []any{sqlstore.NewSandboxIntents(d.DB)}})
	if err != nil {
		return nil, nil, err
	}
	p := &payments{Providers: enabled.Providers}
	for _, opened := range enabled.Opened {
		if gw, ok := opened.Gateway.(*sandbox.Gateway); ok {
			p.Sandbox = gw
		}
		if delivery, ok := opened.Closer.(*sandbox.Delivery); ok {
			p.Delivery = delivery
		}
	}
	return p, func() { _ = enabled.Close() }, nil
}

func provideProviders(p *payments) *app.Providers { return p.Providers }
