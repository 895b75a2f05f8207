//go:build wireinject

package main

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
)

// newServer assembles `wolfix serve`: API, relay, reconciler and their adapters.
func newServer(ctx context.Context, cfg config.Config, log *slog.Logger) (*server, func(), error) {
	wire.Build(databaseSet, outboxSet, paymentsSet, appSet, httpSet, abuseSet, providePruner, wire.Struct(new(server), "*"))
	return nil, nil, nil
}

// newRelayProcess assembles `wolfix relay`: the outbox relay alone.
func newRelayProcess(ctx context.Context, cfg config.Config, log *slog.Logger) (*relayProcess, func(), error) {
	wire.Build(provideDatabase, provideBroker, provideRelay, provideRelayMetrics, wire.Struct(new(relayProcess), "*"))
	return nil, nil, nil
}

// newDatabase assembles `wolfix migrate`: the database, not migrated on open.
func newDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*database, func(), error) {
	wire.Build(provideDatabase)
	return nil, nil, nil
}

// newSeeder assembles `wolfix seed`: the store and the demo-catalog seeder.
func newSeeder(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.CatalogSeeder, func(), error) {
	wire.Build(provideDatabase, provideOutboxOpener, provideStore, wire.Bind(new(app.Store), new(*sqlstore.Store)),
		provideClock, providePricing, app.NewUnitOfWork, app.NewCatalogSeeder)
	return nil, nil, nil
}

// newPruner assembles `wolfix prune`: the retention over the database.
func newPruner(ctx context.Context, cfg config.Config, log *slog.Logger) (*pruner, func(), error) {
	wire.Build(provideDatabase, provideOutboxOpener, provideStore, providePruner)
	return nil, nil, nil
}
