package main

import (
	"log/slog"

	"github.com/google/wire"

	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/adapters/ratelimit"
	"github.com/wolfix/orders/internal/app"
)

// abuseSet provides the abuse limits of DESIGN §8 invariant 10: the cap on what one customer holds
// in unpaid card orders (for the app) and the rate limits (for the HTTP server).
var abuseSet = wire.NewSet(provideUnpaidCap, provideRateLimits)

func provideUnpaidCap(cfg config.Config) app.UnpaidCap {
	return app.UnpaidCap{MaxOrders: cfg.UnpaidOrdersMax, MaxUnits: cfg.UnpaidUnitsMax}
}

// provideRateLimits counts the rate limits in WOLFIX_REDIS_URL's Redis when it is set (one limit
// across every replica), else in this process.
func provideRateLimits(cfg config.Config, log *slog.Logger) (httpapi.RateLimits, func(), error) {
	counts, closeCounts, err := ratelimit.New(ratelimit.Config{RedisURL: cfg.RedisURL, Log: log})
	if err != nil {
		return httpapi.RateLimits{}, nil, err
	}
	var limits httpapi.RateLimits
	for _, l := range []struct {
		limit      **ratelimit.Limit
		name, rate string
	}{
		{&limits.Orders, "orders", cfg.RateOrders},
		{&limits.SandboxConfirm, "sandbox-confirm", cfg.RateSandboxConfirm},
		{&limits.AuthFailures, "auth-failures", cfg.RateAuthFailures},
	} {
		if *l.limit, err = counts.Limit(l.name, l.rate); err != nil {
			closeCounts()
			return httpapi.RateLimits{}, nil, err
		}
	}
	return limits, closeCounts, nil
}
