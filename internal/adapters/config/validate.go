package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/paymentprovider"
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
	c.validateAuth(bad)
	c.validatePayments(bad)
	c.validateBroker(bad)
	if c.PaymentTTL <= 0 {
		bad("WOLFIX_PAYMENT_TTL", "must be a positive duration such as 30m")
	}
	if c.ReconcileAfter <= 0 {
		bad("WOLFIX_RECONCILE_AFTER", "must be a positive duration such as 5m")
	}
	if c.RelayBatchSize < 0 || c.RelayBatchSize > 10_000 {
		bad("WOLFIX_RELAY_BATCH_SIZE", "must be between 0 (automatic) and 10000")
	}
	if c.RelayStuckAfter < time.Second {
		bad("WOLFIX_RELAY_STUCK_AFTER", "must be a duration of at least 1s, such as 15s")
	}
	if c.ReconcileEvery < 100*time.Millisecond {
		bad("WOLFIX_RECONCILE_EVERY", "must be a duration of at least 100ms, such as 30s")
	}
	c.validateRecovery(bad)
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || u.Host == "" || u.Query().Get("from") == "" {
			bad("WOLFIX_SMTP_URL", "must look like smtp://user:pass@host:587?from=orders@example.com")
		}
	}
	c.validateAbuseLimits(bad)
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || u.Host == "" || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("WOLFIX_REDIS_URL", "must be empty or a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0")
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("WOLFIX_PUBLIC_URL", "must be an http(s) URL")
		}
	}
	c.validateOps(bad)
	c.validateTransport(bad)
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

func (c Config) validateOps(bad func(key, format string, args ...any)) {
	switch c.SeedDemo {
	case SeedDemoAuto, "", "true", "false":
	default:
		bad("WOLFIX_SEED_DEMO", "must be auto (only on the embedded SQLite), true or false")
	}
	if c.OpsAddr != "" {
		if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
			bad("WOLFIX_OPS_ADDR", "%q is not host:port (e.g. 127.0.0.1:9090), or empty for none", c.OpsAddr)
		}
	}
	if c.PprofAddr != "" {
		if host, _, err := net.SplitHostPort(c.PprofAddr); err != nil || !isLoopbackHost(host) {
			bad("WOLFIX_PPROF_ADDR", "%q must be a loopback host:port (e.g. 127.0.0.1:6060), or empty for none", c.PprofAddr)
		}
	}
	if c.PruneEvery < 0 {
		bad("WOLFIX_PRUNE_EVERY", "must be 0 (never) or a positive duration such as 10m")
	}
	if c.PruneBatchSize < 1 || c.PruneBatchSize > 10_000 {
		bad("WOLFIX_PRUNE_BATCH_SIZE", "must be between 1 and 10000")
	}
	for key, age := range map[string]time.Duration{"WOLFIX_PRUNE_OUTBOX_AFTER": c.PruneOutboxAfter,
		"WOLFIX_PRUNE_IDEMPOTENCY_AFTER": c.PruneIdempotencyAfter, "WOLFIX_PRUNE_WEBHOOKS_AFTER": c.PruneWebhooksAfter,
		"WOLFIX_PRUNE_CONSUMED_AFTER": c.PruneConsumedAfter} {
		if age < time.Minute {
			bad(key, "must be a duration of at least 1m, such as 24h")
		}
	}
}

// validateRecovery checks the leases and ages that decide how crashed work is picked up again.
func (c Config) validateRecovery(bad func(key, format string, args ...any)) {
	if c.IdempotencyLease < 100*time.Millisecond || c.IdempotencyLease > time.Hour {
		bad("WOLFIX_IDEMPOTENCY_LEASE", "must be a duration between 100ms and 1h, such as 5s")
	}
	if c.IdempotencyTTL < time.Minute {
		bad("WOLFIX_IDEMPOTENCY_TTL", "must be a duration of at least 1m, such as 24h")
	}
	if c.InboxLease < 100*time.Millisecond {
		bad("WOLFIX_INBOX_LEASE", "must be a duration of at least 100ms, such as 1m")
	}
	if c.InboxSweepEvery < 10*time.Millisecond {
		bad("WOLFIX_INBOX_SWEEP_EVERY", "must be a duration of at least 10ms, such as 30s")
	}
	if c.InboxWorkers < 1 || c.InboxWorkers > 256 {
		bad("WOLFIX_INBOX_WORKERS", "must be a number from 1 to 256")
	}
	if c.CardCheckoutSlots < -1 || c.CardCheckoutSlots > 1024 {
		bad("WOLFIX_CARD_CHECKOUT_SLOTS", "must be -1 (no bound), 0 (one per CPU) or a number up to 1024")
	}
	if c.CardCheckoutMaxWait < 100*time.Millisecond || c.CardCheckoutMaxWait > time.Minute {
		bad("WOLFIX_CARD_CHECKOUT_MAX_WAIT", "must be a duration between 100ms and 1m, such as 5s")
	}
}

// validateTransport checks HTTPS and the trusted proxies, and refuses a provider's live key on
// plain HTTP: card payments need TLS, served here or ended by a trusted proxy in front.
func (c Config) validateTransport(bad func(key, format string, args ...any)) {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("WOLFIX_TLS_CERT_FILE", "and WOLFIX_TLS_KEY_FILE must be set together (or neither, for plain HTTP)")
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("WOLFIX_TRUSTED_PROXIES", "%q is not an IP address or CIDR (e.g. 10.0.0.0/8,192.0.2.7)", p)
		}
	}
	if c.ServesTLS() || len(c.TrustedProxies) > 0 {
		return
	}
	for _, key := range c.liveKeys() {
		bad(key, "is a live key but the service would serve plain HTTP: set WOLFIX_TLS_CERT_FILE "+
			"and WOLFIX_TLS_KEY_FILE, or WOLFIX_TRUSTED_PROXIES for the TLS-ending proxy in front")
	}
}

func (c Config) validateAuth(bad func(key, format string, args ...any)) {
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			bad("WOLFIX_JWKS_URL", "must be an absolute https URL such as https://id.example.com/.well-known/jwks.json")
		case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
			bad("WOLFIX_JWKS_URL", "must use https (plain http only to localhost): the keys it serves decide who may call the API")
		}
	}
	for key, v := range map[string]string{"WOLFIX_JWT_ISSUER": c.JWTIssuer, "WOLFIX_JWT_AUDIENCE": c.JWTAudience} {
		if strings.TrimSpace(v) != v {
			bad(key, "must not start or end with white space")
		}
	}
}

// RateOff is the value of a WOLFIX_RATE_* key that turns that rate limit off.
const RateOff = "off"

func (c Config) validateAbuseLimits(bad func(key, format string, args ...any)) {
	if c.UnpaidOrdersMax < 1 || c.UnpaidOrdersMax > 1000 {
		bad("WOLFIX_UNPAID_ORDERS_MAX", "must be between 1 and 1000 unpaid card orders per customer")
	}
	if c.UnpaidUnitsMax < 1 || c.UnpaidUnitsMax > 1_000_000 {
		bad("WOLFIX_UNPAID_UNITS_MAX", "must be between 1 and 1000000 units per customer")
	}
	for key, rate := range map[string]string{"WOLFIX_RATE_ORDERS": c.RateOrders,
		"WOLFIX_RATE_SANDBOX_CONFIRM": c.RateSandboxConfirm, "WOLFIX_RATE_AUTH_FAILURES": c.RateAuthFailures} {
		if rate == RateOff {
			continue
		}
		if r, err := limiter.NewRateFromFormatted(rate); err != nil || r.Limit < 1 {
			bad(key, "%q must be a rate such as 30-M (<count>-<S|M|H|D>, count at least 1) or off", rate)
		}
	}
}

// isLoopbackHost reports whether host (without port) is localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProviderAuto is the value of WOLFIX_PAYMENT_PROVIDER that lets the registered providers choose:
// the first, in the order of registration, whose settings call for it (Stripe when a secret key is
// set, the sandbox otherwise).
const ProviderAuto = "auto"

const providersChoice = "(WOLFIX_PAYMENT_PROVIDER or WOLFIX_PAYMENT_PROVIDERS)"

// validatePayments asks the provider registry which names exist, what each enabled provider
// requires and what each provider thinks of its settings; a test-only provider never runs beside a
// live key.
func (c Config) validatePayments(bad func(key, format string, args ...any)) {
	c.validateProviderNames(bad)
	live := c.liveKeys()
	for _, r := range paymentprovider.Registrations() {
		if c.Enables(r.Name) {
			for _, key := range r.Missing(c) {
				bad(key, "is required when %s is enabled %s", r.Name, providersChoice)
			}
			if r.TestOnly && len(live) > 0 {
				bad("WOLFIX_PAYMENT_PROVIDER", "enables %s %s but %s is a live key; %s never runs beside a live key "+
					"(unset the key, or use a test key)", r.Name, providersChoice, live[0], r.Name)
			}
		}
		if r.Validate != nil {
			for _, p := range r.Validate(c) {
				bad(p.Key, "%s", p.Reason)
			}
		}
	}
}

// validateProviderNames checks that the default and the providers listed beside it are registered.
func (c Config) validateProviderNames(bad func(key, format string, args ...any)) {
	names := strings.Join(paymentprovider.Names(), ", ")
	if _, known := paymentprovider.Lookup(c.Provider()); !known {
		if c.choosesAuto() {
			bad("WOLFIX_PAYMENT_PROVIDER", "is auto but the settings call for none of %s: name one", names)
		} else {
			bad("WOLFIX_PAYMENT_PROVIDER", "must be auto or one of %s", names)
		}
	}
	for _, name := range c.PaymentProviders {
		if _, known := paymentprovider.Lookup(name); !known {
			bad("WOLFIX_PAYMENT_PROVIDERS", "must list some of %s, got %q", names, name)
		}
	}
}

// liveKeys are the keys of the settings that hold live credentials, one per provider.
func (c Config) liveKeys() []string {
	var keys []string
	for _, r := range paymentprovider.Registrations() {
		if key := r.Live(c); key != "" {
			keys = append(keys, key)
		}
	}
	return keys
}

// validateBroker asks the broker registry whether the kind exists and which settings it requires.
func (c Config) validateBroker(bad func(key, format string, args ...any)) {
	kind, ok := broker.Lookup(c.BrokerKind)
	if !ok {
		bad("WOLFIX_BROKER_KIND", "must be one of %s", strings.Join(broker.Kinds(), ", "))
		return
	}
	for _, key := range kind.Missing(c) {
		bad(key, "is required when WOLFIX_BROKER_KIND=%s", c.BrokerKind)
	}
}

// Provider resolves WOLFIX_PAYMENT_PROVIDER: the provider it names, or with auto the one the
// registered providers pick (Stripe when a secret key is set, the sandbox otherwise); "" when auto
// picks none.
func (c Config) Provider() string {
	if !c.choosesAuto() {
		return c.PaymentProvider
	}
	name, _ := paymentprovider.Auto(c)
	return name
}

// choosesAuto reports whether WOLFIX_PAYMENT_PROVIDER is auto; empty (an explicitly blank setting)
// means auto.
func (c Config) choosesAuto() bool {
	return c.PaymentProvider == ProviderAuto || c.PaymentProvider == ""
}

// Providers are the enabled payment providers, the default (Provider()) first, then the others
// WOLFIX_PAYMENT_PROVIDERS lists, each once.
func (c Config) Providers() []string {
	var enabled []string
	for _, name := range append([]string{c.Provider()}, c.PaymentProviders...) {
		if name != "" && !slices.Contains(enabled, name) {
			enabled = append(enabled, name)
		}
	}
	return enabled
}

// Enables reports whether the payment provider named name is enabled.
func (c Config) Enables(name string) bool { return slices.Contains(c.Providers(), name) }
