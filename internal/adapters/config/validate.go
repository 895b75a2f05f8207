package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/wolfix/orders/internal/domain/money"
)

// Validate checks every value and names the key of each bad one.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("WOLFIX_HTTP_ADDR", "%q is not host:port (e.g. :8080)", c.HTTPAddr)
	}
	if c.DataDir == "" {
		bad("WOLFIX_DATA_DIR", "must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("WOLFIX_DATABASE_URL", "must be empty (SQLite in the data dir) or a postgres:// URL")
	}
	if _, err := money.ParseCurrency(c.Currency); err != nil {
		bad("WOLFIX_CURRENCY", "%q is not a supported ISO-4217 currency", c.Currency)
	}
	for key, fee := range map[string]int64{"WOLFIX_DELIVERY_FEE_COURIER": c.DeliveryFeeCourier,
		"WOLFIX_DELIVERY_FEE_BRANCH": c.DeliveryFeeBranch, "WOLFIX_DELIVERY_FEE_LOCKER": c.DeliveryFeeLocker} {
		if fee < 0 || fee > 100_000_000 {
			bad(key, "must be between 0 and 100000000 minor units, got %d", fee)
		}
	}
	c.validateStripe(bad)
	c.validateBroker(bad)
	if c.PaymentTTL <= 0 {
		bad("WOLFIX_PAYMENT_TTL", "must be a positive duration such as 30m")
	}
	if c.ReconcileAfter <= 0 {
		bad("WOLFIX_RECONCILE_AFTER", "must be a positive duration such as 5m")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("WOLFIX_PUBLIC_URL", "must be an http(s) URL")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("WOLFIX_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("WOLFIX_LOG_FORMAT", "must be text or json")
	}
	return errors.Join(errs...)
}

func (c Config) validateStripe(bad func(key, format string, args ...any)) {
	key := c.StripeSecretKey
	switch {
	case key == "":
		if c.StripeAPIURL != "" {
			bad("WOLFIX_STRIPE_API_URL", "is set but WOLFIX_STRIPE_SECRET_KEY is not")
		}
	case !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "sk_live_") && !strings.HasPrefix(key, "rk_"):
		bad("WOLFIX_STRIPE_SECRET_KEY", "must be a Stripe secret key (sk_test_…, sk_live_… or rk_…)")
	case c.StripeWebhookSecret == "":
		bad("WOLFIX_STRIPE_WEBHOOK_SECRET", "is required when WOLFIX_STRIPE_SECRET_KEY is set (webhooks must be verified)")
	}
	if strings.HasPrefix(key, "sk_live_") && c.StripeAPIURL != "" {
		bad("WOLFIX_STRIPE_API_URL", "must not redirect a live key away from Stripe")
	}
	if c.StripeAPIURL != "" {
		if u, err := url.Parse(c.StripeAPIURL); err != nil || u.Host == "" {
			bad("WOLFIX_STRIPE_API_URL", "must be an absolute URL")
		}
	}
}

func (c Config) validateBroker(bad func(key, format string, args ...any)) {
	switch c.BrokerKind {
	case "gochannel":
	case "nats":
		if c.NATSURL == "" {
			bad("WOLFIX_NATS_URL", "is required when WOLFIX_BROKER_KIND=nats")
		}
	case "amqp":
		if c.AMQPURL == "" {
			bad("WOLFIX_AMQP_URL", "is required when WOLFIX_BROKER_KIND=amqp")
		}
	default:
		bad("WOLFIX_BROKER_KIND", "must be gochannel, nats or amqp")
	}
}

// UsesSandbox reports whether payments go to the in-process sandbox (no Stripe key configured).
func (c Config) UsesSandbox() bool { return c.StripeSecretKey == "" }
