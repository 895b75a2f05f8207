package app

import (
	"context"
	"log/slog"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
)

// DemoSellerID owns the demo catalog.
const DemoSellerID = "seller-demo"

// CatalogSeeder fills an empty catalog with a few demo products, so a fresh install can sell.
type CatalogSeeder struct {
	store    UnitOfWork
	currency money.Currency
	clock    Clock
	log      *slog.Logger
}

// NewCatalogSeeder builds the demo-catalog seeder for the trading currency.
func NewCatalogSeeder(store UnitOfWork, pricing Pricing, clock Clock, log *slog.Logger) *CatalogSeeder {
	return &CatalogSeeder{store: store, currency: pricing.Currency, clock: clock, log: log}
}

type demoProduct struct {
	title string
	minor int64
	stock int64
}

var demoProducts = []demoProduct{
	{"Wireless headphones", 22649, 25},
	{"Mechanical keyboard", 12999, 40},
	{"USB-C charger 65W", 3499, 100},
	{"Espresso cups, set of 4", 2450, 60},
	{"Last-one vintage lamp", 8900, 1},
}

// SeedIfEmpty adds the demo products when there are none; it reports how many it added.
func (s *CatalogSeeder) SeedIfEmpty(ctx context.Context) (int, error) {
	n, err := s.store.Products().Count(ctx)
	if err != nil || n > 0 {
		return 0, err
	}
	return s.Seed(ctx)
}

// Seed adds the demo products (again, if asked), and reports how many it added.
func (s *CatalogSeeder) Seed(ctx context.Context) (int, error) {
	now := s.clock.Now()
	for _, d := range demoProducts {
		price, err := money.New(d.minor, s.currency)
		if err != nil {
			return 0, err
		}
		p, err := catalog.NewProduct(NewID(), DemoSellerID, d.title, price, d.stock, "", now)
		if err != nil {
			return 0, err
		}
		if err := s.store.Products().Add(ctx, p); err != nil {
			return 0, err
		}
	}
	s.log.InfoContext(ctx, "demo catalog seeded", "products", len(demoProducts))
	return len(demoProducts), nil
}
