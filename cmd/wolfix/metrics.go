package main

import (
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/metrics"
	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/app"
)

// provideMetrics builds `wolfix serve`'s registry, which /metrics serves and the use cases and the
// HTTP server report to. The relay's series (wolfix_outbox_*) are in it only when this process
// runs the relay: a replica started with WOLFIX_RUN_RELAY=false would show them stuck at zero.
func provideMetrics(cfg config.Config, d *database, relay *outbox.Relay, slots *app.CheckoutSlots) (*metrics.Metrics, error) {
	if !cfg.RunRelay {
		relay = nil
	}
	m, err := newMetrics(d, relay)
	if err != nil {
		return nil, err
	}
	return m, m.WatchCheckoutSlots(slots)
}

// provideRelayMetrics builds `wolfix relay`'s registry, served on its operations address.
func provideRelayMetrics(d *database, relay *outbox.Relay) (*metrics.Metrics, error) {
	return newMetrics(d, relay)
}

// newMetrics is a registry with the build, runtime, process and database pool series, and the
// relay's when relay is not nil.
func newMetrics(d *database, relay *outbox.Relay) (*metrics.Metrics, error) {
	m := metrics.New(metrics.ReadBuild(version))
	if err := m.WatchDB(d.DB.DB); err != nil {
		return nil, err
	}
	if relay != nil {
		if err := m.Register(relay.Collectors()...); err != nil {
			return nil, err
		}
	}
	return m, nil
}
