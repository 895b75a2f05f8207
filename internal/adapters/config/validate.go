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
	c.validateStripe(bad)
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
}

// validateTransport checks HTTPS and the trusted proxies, and refuses a live Stripe key on plain
// HTTP: card payments need TLS, served here or ended by a trusted proxy in front.
func (c Config) validateTransport(bad func(key, format string, args ...any)) {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("WOLFIX_TLS_CERT_FILE", "and WOLFIX_TLS_KEY_FILE must be set together (or neither, for plain HTTP)")
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("WOLFIX_TRUSTED_PROXIES", "%q is not an IP address or CIDR (e.g. 10.0.0.0/8,192.0.2.7)", p)
		}
	}
	if isLiveKey(c.StripeSecretKey) && !c.ServesTLS() && len(c.TrustedProxies) == 0 {
		bad("WOLFIX_STRIPE_SECRET_KEY", "is a live key but the service would serve plain HTTP: set WOLFIX_TLS_CERT_FILE "+
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

// Payment providers, the values of WOLFIX_PAYMENT_PROVIDER.
const (
	ProviderAuto    = "auto"    // Stripe when a secret key is set, the sandbox otherwise
	ProviderSandbox = "sandbox" // the in-process sandbox, whatever keys are set (never a live key)
	ProviderStripe  = "stripe"  // Stripe; a secret key and a webhook secret are required
)

// stripeAPIHost is the only host a live key may be sent to.
const stripeAPIHost = "api.stripe.com"

func (c Config) validateStripe(bad func(key, format string, args ...any)) {
	key := c.StripeSecretKey
	live := isLiveKey(key)
	switch c.PaymentProvider {
	case ProviderAuto, "", ProviderSandbox, ProviderStripe: // empty (an explicitly blank setting) means auto
	default:
		bad("WOLFIX_PAYMENT_PROVIDER", "must be auto, sandbox or stripe")
	}
	for _, name := range c.PaymentProviders {
		if name != ProviderSandbox && name != ProviderStripe {
			bad("WOLFIX_PAYMENT_PROVIDERS", "must list sandbox or stripe, got %q", name)
		}
	}
	if c.Enables(ProviderSandbox) && live {
		bad("WOLFIX_PAYMENT_PROVIDER", "enables the sandbox (here or in WOLFIX_PAYMENT_PROVIDERS) but WOLFIX_STRIPE_SECRET_KEY "+
			"is a live key; the sandbox never runs beside a live key (unset the key, or use a test key sk_test_…)")
	}
	if c.Enables(ProviderStripe) && key == "" {
		bad("WOLFIX_STRIPE_SECRET_KEY", "is required when stripe is enabled (WOLFIX_PAYMENT_PROVIDER or WOLFIX_PAYMENT_PROVIDERS)")
	}
	switch {
	case key == "":
		if c.StripeAPIURL != "" {
			bad("WOLFIX_STRIPE_API_URL", "is set but WOLFIX_STRIPE_SECRET_KEY is not")
		}
	case !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "sk_live_") && !strings.HasPrefix(key, "rk_"):
		// The message never repeats the value: it may be a real secret pasted into the wrong key.
		bad("WOLFIX_STRIPE_SECRET_KEY", "must be a Stripe secret key (sk_test_…, sk_live_… or rk_…)")
	case c.StripeWebhookSecret == "" && c.Enables(ProviderStripe):
		bad("WOLFIX_STRIPE_WEBHOOK_SECRET", "is required when WOLFIX_STRIPE_SECRET_KEY is set (webhooks must be verified)")
	}
	if c.StripeAPIURL != "" {
		u, err := url.Parse(c.StripeAPIURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			bad("WOLFIX_STRIPE_API_URL", "must be an absolute http(s) URL")
		case live && (u.Scheme != "https" || u.Hostname() != stripeAPIHost):
			bad("WOLFIX_STRIPE_API_URL", "must be empty or https://%s with a live WOLFIX_STRIPE_SECRET_KEY: "+
				"a live key is never sent anywhere but Stripe", stripeAPIHost)
		}
	}
}

// isLiveKey reports whether key is a live-mode secret or restricted key.
func isLiveKey(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
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

// Provider resolves WOLFIX_PAYMENT_PROVIDER: ProviderStripe or ProviderSandbox. With auto it is
// Stripe when a secret key is set, the sandbox otherwise.
func (c Config) Provider() string {
	switch c.PaymentProvider {
	case ProviderSandbox, ProviderStripe:
		return c.PaymentProvider
	}
	if c.StripeSecretKey != "" {
		return ProviderStripe
	}
	return ProviderSandbox
}

// Providers are the enabled payment providers, the default (Provider()) first, then the others
// WOLFIX_PAYMENT_PROVIDERS lists, each once.
func (c Config) Providers() []string {
	enabled := []string{c.Provider()}
	for _, name := range c.PaymentProviders {
		if !slices.Contains(enabled, name) {
			enabled = append(enabled, name)
		}
	}
	return enabled
}

// Enables reports whether the payment provider named name is enabled.
func (c Config) Enables(name string) bool { return slices.Contains(c.Providers(), name) }

// UsesSandbox reports whether payments go to the in-process sandbox (Provider() is sandbox).
func (c Config) UsesSandbox() bool { return c.Provider() == ProviderSandbox }
